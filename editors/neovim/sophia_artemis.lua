-- sophia-artemis for Neovim 0.7 and newer, with no plugin manager and no nvim-lspconfig.
--
-- Put this file on 'runtimepath' as lua/sophia_artemis.lua (for example ~/.config/nvim/lua/sophia_artemis.lua)
-- and call, from init.lua:
--
--   require("sophia_artemis").setup({
--     -- cmd = { "/path/to/venv/bin/python", "-m", "sophia_artemis", "serve" },  -- default: sophia-artemis serve
--     settings = { sophiaArtemis = { ignore = { "SA201" }, thresholds = { cyclomatic = 12 } } },
--   })
--
-- The API is picked by version: vim.lsp.config + vim.lsp.enable on 0.11+, vim.lsp.start from a FileType
-- autocmd on 0.8-0.10, vim.lsp.start_client + vim.lsp.buf_attach_client on 0.7. `settings` answer the
-- server's workspace/configuration requests (section "sophiaArtemis") and are also sent as
-- initializationOptions. Keys: docs/configuration.md (camelCase, as in VS Code).

local M = {}

M.name = "sophia_artemis"

M.defaults = {
  cmd = { "sophia-artemis", "serve" },
  filetypes = { "python" },
  root_markers = { "pyproject.toml", ".git" },
  settings = nil, -- { sophiaArtemis = { ... } }
  init_options = nil, -- default: settings.sophiaArtemis
  capabilities = nil,
  on_attach = nil,
  on_init = nil,
  -- "auto" picks by version; "config" (0.11+), "start" (0.8+) or "start_client" (0.7+) force one
  api = "auto",
}

--- Which API this Neovim offers (or `requested`, when forced and available).
function M.pick_api(requested)
  local has_config = vim.lsp.config ~= nil and vim.lsp.enable ~= nil and vim.fn.has("nvim-0.11") == 1
  local has_start = vim.lsp.start ~= nil
  if requested == "config" and has_config then
    return "config"
  elseif requested == "start" and has_start then
    return "start"
  elseif requested == "start_client" then
    return "start_client"
  end
  if has_config then
    return "config"
  elseif has_start then
    return "start"
  end
  return "start_client"
end

local uv = vim.uv or vim.loop

local function dirname(path)
  local parent = path:match("^(.*)/[^/]*$")
  if parent == nil or parent == "" then
    return "/"
  end
  return parent
end

--- The nearest folder at or above `path` holding one of `markers` (pyproject.toml, .git), or nil.
function M.find_root(path, markers)
  if path == nil or path == "" then
    return nil
  end
  local dir = dirname(vim.fn.fnamemodify(path, ":p"))
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. "/" .. marker) ~= nil then
        return dir
      end
    end
    local parent = dirname(dir)
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

local function empty_dict()
  return vim.empty_dict and vim.empty_dict() or {}
end

local function normalise(opts)
  local config = vim.tbl_deep_extend("force", {}, M.defaults, opts or {})
  -- lists are replaced, not merged key by key
  if opts and opts.cmd then
    config.cmd = opts.cmd
  end
  if opts and opts.filetypes then
    config.filetypes = opts.filetypes
  end
  if opts and opts.root_markers then
    config.root_markers = opts.root_markers
  end
  config.settings = config.settings or {}
  if config.settings.sophiaArtemis == nil or next(config.settings.sophiaArtemis) == nil then
    config.settings.sophiaArtemis = empty_dict() -- encodes as {} rather than []
  end
  if config.init_options == nil then
    config.init_options = config.settings.sophiaArtemis
  elseif type(config.init_options) == "table" and next(config.init_options) == nil then
    config.init_options = empty_dict()
  end
  return config
end

-- Neovim 0.7 does not send `settings` after initialize (0.8+ does), and cannot answer a workspace/configuration
-- pull either: push them once, as nvim-lspconfig does. The server takes the notification's `sophiaArtemis` part.
local function push_settings(client)
  if vim.fn.has("nvim-0.8") == 0 and next(client.config.settings or {}) ~= nil then
    client.notify("workspace/didChangeConfiguration", { settings = client.config.settings })
  end
end

local function client_config(config, root_dir)
  local client = {
    name = M.name,
    cmd = config.cmd,
    root_dir = root_dir,
    settings = config.settings,
    init_options = config.init_options,
    capabilities = config.capabilities,
    on_attach = config.on_attach,
    on_init = function(client, result)
      push_settings(client)
      if config.on_init then
        return config.on_init(client, result)
      end
    end,
  }
  if root_dir ~= nil then
    client.workspace_folders = { { uri = vim.uri_from_fname(root_dir), name = root_dir } }
  end
  return client
end

local function buffer_root(config, bufnr)
  local file = vim.api.nvim_buf_get_name(bufnr)
  return M.find_root(file, config.root_markers) or (file ~= "" and dirname(vim.fn.fnamemodify(file, ":p")) or uv.cwd())
end

-- 0.7: one client per root, started once and attached to every buffer of that root
local clients_by_root = {}

local function attach_start_client(config, bufnr)
  local root = buffer_root(config, bufnr)
  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if client == nil or client.is_stopped() then
    id = vim.lsp.start_client(client_config(config, root))
    if id == nil then
      return nil
    end
    clients_by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

local function attach_start(config, bufnr)
  return vim.lsp.start(client_config(config, buffer_root(config, bufnr)), { bufnr = bufnr })
end

-- ---------------------------------------------------------------------------------------------------------
-- Commands on the server's workspace/executeCommand commands (docs/commands.md): :SophiaSearch,
-- :SophiaImpact, :SophiaReport, :SophiaRemember. Answers go to the quickfix list or a float.

local function notify(message, level)
  vim.notify("sophia-artemis: " .. message, level or vim.log.levels.INFO)
end

--- Whether `client` lists `command` in its executeCommandProvider.
function M.offers(client, command)
  local caps = client and (client.server_capabilities or client.resolved_capabilities) or {}
  local provider = caps.executeCommandProvider
  return type(provider) == "table" and vim.tbl_contains(provider.commands or {}, command)
end

--- workspace/executeCommand `command` with one argument through the sophia-artemis client of `bufnr`;
--- `on_result(result)` gets the answer, while every failure (no client, a server that does not offer the
--- command, a JSON-RPC error, an `{"error": ...}` answer) is shown with vim.notify.
function M.execute(command, argument, on_result, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if client == nil then
    notify("no sophia-artemis server is attached to this buffer", vim.log.levels.WARN)
    return false
  end
  if not M.offers(client, command) then
    notify("this server does not offer " .. command .. " (update sophia-artemis)", vim.log.levels.WARN)
    return false
  end
  local function handler(err, result)
    if err ~= nil then
      notify(command .. " failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif type(result) ~= "table" then
      notify(command .. ": no answer", vim.log.levels.ERROR)
    elseif result.error ~= nil then
      notify(command .. ": " .. tostring(result.error), vim.log.levels.ERROR)
    else
      on_result(result)
    end
  end
  local params = { command = command, arguments = { argument } }
  if vim.fn.has("nvim-0.11") == 1 then
    client:request("workspace/executeCommand", params, handler, bufnr)
  else
    client.request("workspace/executeCommand", params, handler, bufnr)
  end
  return true
end

local function cursor_position(bufnr)
  local client = M.client(bufnr)
  return vim.lsp.util.make_position_params(0, client and client.offset_encoding or "utf-16").position
end

local function root_uri(bufnr)
  local client = M.client(bufnr)
  local root = client and client.config.root_dir
  return root and vim.uri_from_fname(root) or nil
end

local function qf_item(uri, range, text)
  local start = range and range.start or { line = 0, character = 0 }
  return { filename = vim.uri_to_fname(uri), lnum = start.line + 1, col = start.character + 1, text = text }
end

--- `sophia.search` answer -> quickfix items (results without a uri left out).
function M.search_items(result)
  local items = {}
  for _, hit in ipairs(result.results or {}) do
    if type(hit) == "table" and type(hit.uri) == "string" then
      local score = type(hit.score) == "number" and string.format(" %.2f", hit.score) or ""
      local text = (hit.qualname or hit.path or "") .. "  [" .. (hit.kind or "?") .. score .. "]"
      table.insert(items, qf_item(hit.uri, hit.range, text))
    end
  end
  return items
end

--- `sophia.impact` answer -> quickfix items: callers, direct then indirect dependents, tests, co-changed files.
function M.impact_items(result)
  local items = {}
  for _, caller in ipairs(result.callers or {}) do
    if type(caller) == "table" and caller.uri then
      table.insert(items, qf_item(caller.uri, caller.range, "caller: " .. (caller.qualname or caller.path or "")))
    end
  end
  local dependents = result.dependents or {}
  local function name_of(dep)
    return type(dep) == "table" and (dep.module or dep.path) or tostring(dep)
  end
  local direct = {}
  for _, dep in ipairs(dependents.direct or {}) do
    direct[name_of(dep)] = true
  end
  -- transitive includes the direct ones: list those once, as direct
  for _, group in ipairs({ { "direct", dependents.direct or {} }, { "indirect", dependents.transitive or {} } }) do
    for _, dep in ipairs(group[2]) do
      if type(dep) == "table" and dep.uri and (group[1] == "direct" or not direct[name_of(dep)]) then
        table.insert(items, qf_item(dep.uri, nil, "dependent (" .. group[1] .. "): " .. name_of(dep)))
      end
    end
  end
  for _, test in ipairs(result.tests or {}) do
    if type(test) == "table" and test.uri then
      table.insert(items, qf_item(test.uri, nil, "test: " .. (test.path or "")))
    end
  end
  for _, file in ipairs(result.co_changed or {}) do
    if type(file) == "table" and file.uri then
      local score = type(file.score) == "number" and string.format(" (score %.2f, %s commits)", file.score, tostring(file.commits or "?")) or ""
      table.insert(items, qf_item(file.uri, nil, "co-changed: " .. (file.path or "") .. score))
    end
  end
  return items
end

--- `sophia.report` answer -> the lines of the report float.
function M.report_lines(report)
  local lines = { "Sophia report: " .. tostring(report.root or ""), "" }
  local debt = report.debt or {}
  table.insert(lines, string.format("%s files · %s functions over a threshold · excess complexity %s",
    tostring(report.files or "?"), tostring(debt.over_threshold or "?"), tostring(debt.excess_complexity or "?")))
  table.insert(lines, "")
  table.insert(lines, "Findings")
  local rules = vim.tbl_keys(report.findings or {})
  table.sort(rules)
  for _, rule in ipairs(rules) do
    table.insert(lines, string.format("  %-8s %s", rule, tostring(report.findings[rule])))
  end
  if #rules == 0 then
    table.insert(lines, "  none")
  end
  table.insert(lines, "")
  table.insert(lines, "Hotspots (score, churn, complexity)")
  for _, h in ipairs(report.hotspots or {}) do
    table.insert(lines, string.format("  %-40s %.2f %s %s", tostring(h.path), tonumber(h.score) or 0, tostring(h.churn), tostring(h.complexity)))
  end
  if #(report.hotspots or {}) == 0 then
    table.insert(lines, "  none")
  end
  table.insert(lines, "")
  table.insert(lines, "Import cycles")
  for _, cycle in ipairs(report.cycles or {}) do
    table.insert(lines, "  " .. table.concat(cycle, " -> ") .. " -> " .. tostring(cycle[1]))
  end
  if #(report.cycles or {}) == 0 then
    table.insert(lines, "  none")
  end
  table.insert(lines, "")
  table.insert(lines, "Snapshots (findings, over threshold, excess complexity)")
  for _, snap in ipairs(report.snapshots or {}) do
    table.insert(lines, string.format("  %s  %s %s %s", tostring(snap.time), tostring(snap.findings),
      tostring(snap.over_threshold), tostring(snap.excess_complexity)))
  end
  if #(report.snapshots or {}) == 0 then
    table.insert(lines, "  none yet")
  end
  return lines
end

local function fill_quickfix(title, items)
  vim.fn.setqflist({}, " ", { title = title, items = items })
  if #items == 0 then
    notify(title .. ": nothing found")
  else
    vim.cmd("copen")
  end
end

function M.search(query, bufnr)
  return M.execute("sophia.search", { query = query, k = 20, uri = root_uri(bufnr) }, function(result)
    if result.note ~= nil then
      notify(result.note)
    end
    fill_quickfix(string.format("Sophia search: %s (%s)", query, tostring(result.mode or "?")), M.search_items(result))
  end, bufnr)
end

function M.impact(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local argument = { uri = vim.uri_from_bufnr(bufnr), position = cursor_position(bufnr) }
  return M.execute("sophia.impact", argument, function(result)
    fill_quickfix("Sophia impact: " .. tostring(result.target or "?"), M.impact_items(result))
  end, bufnr)
end

--- Show `lines` in a centred float; `q` closes it. Returns the window id.
function M.float(lines, title)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  local width = 20
  for _, line in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  width = math.min(width + 2, math.max(20, vim.o.columns - 4))
  local height = math.min(#lines, math.max(1, vim.o.lines - 4))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor", width = width, height = height, style = "minimal", border = "rounded",
    row = math.floor((vim.o.lines - height) / 2), col = math.floor((vim.o.columns - width) / 2),
  })
  vim.api.nvim_buf_set_keymap(buf, "n", "q", "<cmd>close<cr>", { nowait = true, noremap = true, silent = true })
  vim.b[buf].sophia_title = title
  return win
end

function M.report(bufnr)
  return M.execute("sophia.report", { uri = root_uri(bufnr) }, function(result)
    M.report_window = M.float(M.report_lines(result), "Sophia report")
  end, bufnr)
end

function M.remember(text, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local argument = { uri = vim.uri_from_bufnr(bufnr), position = cursor_position(bufnr), text = text }
  return M.execute("sophia.remember", argument, function(result)
    notify("remembered a note on " .. tostring(result.note and result.note.target or "this file"))
  end, bufnr)
end

local function create_commands()
  vim.api.nvim_create_user_command("SophiaSearch", function(args)
    M.search(args.args)
  end, { nargs = "+", desc = "sophia-artemis: semantic search into the quickfix list" })
  vim.api.nvim_create_user_command("SophiaImpact", function()
    M.impact()
  end, { nargs = 0, desc = "sophia-artemis: callers, dependents, tests of the symbol under the cursor" })
  vim.api.nvim_create_user_command("SophiaReport", function()
    M.report()
  end, { nargs = 0, desc = "sophia-artemis: hotspots, debt, cycles, snapshots in a float" })
  vim.api.nvim_create_user_command("SophiaRemember", function(args)
    M.remember(args.args)
  end, { nargs = "+", desc = "sophia-artemis: remember a note on the symbol under the cursor" })
end

--- Configure and enable the server for `opts.filetypes` (python). Returns the API used.
function M.setup(opts)
  local config = normalise(opts)
  local api = M.pick_api(config.api)
  M.api_used = api
  M.config = config
  create_commands()

  if api == "config" then
    vim.lsp.config(M.name, {
      cmd = config.cmd,
      filetypes = config.filetypes,
      root_markers = config.root_markers,
      settings = config.settings,
      init_options = config.init_options,
      capabilities = config.capabilities,
      on_attach = config.on_attach,
      on_init = config.on_init, -- 0.11+ sends `settings` after initialize by itself
    })
    vim.lsp.enable(M.name)
    return api
  end

  local attach = api == "start" and attach_start or attach_start_client
  local group = vim.api.nvim_create_augroup("sophia_artemis", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      if vim.bo[args.buf].buftype == "" then
        attach(config, args.buf)
      end
    end,
  })
  -- buffers that already had their filetype when setup() ran
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].buftype == ""
      and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      attach(config, bufnr)
    end
  end
  return api
end

--- The sophia-artemis client attached to `bufnr`, or nil.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients
  if vim.lsp.get_clients then
    clients = vim.lsp.get_clients({ bufnr = bufnr, name = M.name })
  else
    clients = {}
    for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
      if client.name == M.name then
        table.insert(clients, client)
      end
    end
  end
  return clients[1]
end

--- The LSP diagnostics on line `lnum` (0-based) of `bufnr`, rebuilt from vim.diagnostic's own fields.
--- Neovim 0.7 keeps an empty `user_data.lsp` table, so that table cannot be sent back as it is.
function M.line_diagnostics(bufnr, lnum)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr, { lnum = lnum })) do
    local function character(line, col) -- vim.diagnostic columns are bytes, LSP's are UTF-16 units
      local text = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, false)[1] or ""
      col = math.min(col, #text)
      if vim.fn.has("nvim-0.11") == 1 then
        return vim.str_utfindex(text, "utf-16", col, false)
      end
      local _, utf16 = vim.str_utfindex(text, col)
      return utf16 or col
    end
    local end_lnum = d.end_lnum or d.lnum
    table.insert(out, {
      range = {
        start = { line = d.lnum, character = character(d.lnum, d.col) },
        ["end"] = { line = end_lnum, character = character(end_lnum, d.end_col or d.col) },
      },
      severity = d.severity,
      message = d.message,
      source = d.source,
      code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code),
    })
  end
  return out
end

return M
