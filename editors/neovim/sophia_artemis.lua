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

--- Configure and enable the server for `opts.filetypes` (python). Returns the API used.
function M.setup(opts)
  local config = normalise(opts)
  local api = M.pick_api(config.api)
  M.api_used = api
  M.config = config

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
