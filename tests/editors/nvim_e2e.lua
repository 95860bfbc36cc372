-- Headless Neovim against the language server, through editors/neovim/sophia_artemis.lua.
-- Run by tests/editors/test_neovim.py as `nvim --headless -u NONE -i NONE -n -c "luafile nvim_e2e.lua"`, with:
--   SOPHIA_NVIM_MODULE_DIR  folder holding sophia_artemis.lua
--   SOPHIA_NVIM_FILE        the Python file to open (in a copy of fixtures/lsp_project)
--   SOPHIA_NVIM_CMD         JSON list: the server command (unset: the module's default, sophia-artemis serve)
--   SOPHIA_NVIM_API         "auto", "config", "start" or "start_client"
--   SOPHIA_NVIM_RESULT      where to write the JSON result
--   SOPHIA_NVIM_SCENARIO    "client" (default: diagnostics, code actions, hover) or "commands" (:SophiaSearch,
--                           :SophiaImpact, :SophiaReport, :SophiaRemember, each when the server offers it)
-- Every wait is vim.wait on a condition. Exit code: 0 (qall!) when every step passed, 1 (cquit!) otherwise.

local result = { steps = {}, version = tostring(vim.version().major) .. "." .. vim.version().minor .. "." .. vim.version().patch }

local function write_result()
  local file = io.open(os.getenv("SOPHIA_NVIM_RESULT"), "w")
  file:write(vim.fn.json_encode(result))
  file:close()
end

local function step(name, fn)
  local ok, detail = pcall(fn)
  if not ok then
    error(name .. ": " .. tostring(detail), 0)
  end
  table.insert(result.steps, name)
  if detail ~= nil then
    result[name] = detail
  end
end

local function codes(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    table.insert(out, { code = code, lnum = d.lnum, message = d.message, user_data = d.user_data })
  end
  return out
end

local function has_code(bufnr, code)
  for _, d in ipairs(codes(bufnr)) do
    if d.code == code then
      return true
    end
  end
  return false
end

local function wait(ms, what, condition)
  if not vim.wait(ms, condition, 50) then
    error("timed out after " .. ms .. " ms waiting for " .. what, 0)
  end
end

-- The user commands, each only when the server lists its command (the Python test skips otherwise).
local function run_commands(sophia, client, bufnr)
  local messages = {}
  vim.notify = function(message, level)
    table.insert(messages, { message = message, level = level })
  end
  result.offered = client.server_capabilities.executeCommandProvider.commands

  local function qf_title()
    return vim.fn.getqflist({ title = 1 }).title
  end

  if sophia.offers(client, "sophia.search") then
    step("search", function()
      vim.cmd("SophiaSearch price with discount")
      -- the first search may build the index and load the embedding model
      wait(150000, "the quickfix list to be filled by :SophiaSearch", function()
        return qf_title():find("Sophia search", 1, true) ~= nil and #vim.fn.getqflist() > 0
      end)
      local items = {}
      for _, item in ipairs(vim.fn.getqflist()) do
        table.insert(items, { file = vim.api.nvim_buf_get_name(item.bufnr), lnum = item.lnum, text = item.text })
      end
      return { title = qf_title(), items = items, quickfix_open = vim.bo.buftype == "quickfix" }
    end)
    vim.cmd("cclose")
    vim.api.nvim_set_current_buf(bufnr)
  end

  if sophia.offers(client, "sophia.impact") then
    step("impact", function()
      vim.api.nvim_win_set_cursor(0, { 6, 5 }) -- on `price` in `def price(`
      vim.fn.setqflist({}, " ", { title = "before" })
      vim.cmd("SophiaImpact")
      wait(60000, "the quickfix title of :SophiaImpact", function()
        return qf_title():find("Sophia impact", 1, true) ~= nil
      end)
      local texts = {}
      for _, item in ipairs(vim.fn.getqflist()) do
        table.insert(texts, item.text)
      end
      return { title = qf_title(), texts = texts }
    end)
    vim.cmd("cclose")
    vim.api.nvim_set_current_buf(bufnr)
  end

  if sophia.offers(client, "sophia.report") then
    step("report", function()
      vim.cmd("SophiaReport")
      wait(60000, "the report float", function()
        return sophia.report_window ~= nil and vim.api.nvim_win_is_valid(sophia.report_window)
      end)
      local win = sophia.report_window
      local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      local relative = vim.api.nvim_win_get_config(win).relative
      vim.api.nvim_win_close(win, true)
      return { lines = lines, relative = relative }
    end)
    vim.api.nvim_set_current_buf(bufnr)
  end

  if sophia.offers(client, "sophia.remember") then
    step("remember", function()
      vim.api.nvim_win_set_cursor(0, { 6, 5 })
      vim.cmd("SophiaRemember the coupon rules come from marketing")
      wait(60000, "the note to be remembered", function()
        for _, m in ipairs(messages) do
          if m.message:find("remembered a note", 1, true) or m.message:find("sophia.remember", 1, true) then
            return true
          end
        end
        return false
      end)
      return messages
    end)
  end
  result.messages = messages
end

local function run()
  package.path = os.getenv("SOPHIA_NVIM_MODULE_DIR") .. "/?.lua;" .. package.path
  local sophia = require("sophia_artemis")

  -- count and record the workspace/configuration answers the client gives
  local configuration_answers = {}
  local default_configuration = vim.lsp.handlers["workspace/configuration"]
  vim.lsp.handlers["workspace/configuration"] = function(err, params, ctx, config)
    local answer = default_configuration(err, params, ctx, config)
    table.insert(configuration_answers, answer)
    return answer
  end

  local opts = {
    api = os.getenv("SOPHIA_NVIM_API") or "auto",
    settings = { sophiaArtemis = { ignore = { "SA201" } } },
    -- no initializationOptions, so only `settings` can make the server ignore SA201: answered to
    -- workspace/configuration on 0.8+, sent in workspace/didChangeConfiguration by 0.7 (which cannot be asked)
    init_options = vim.empty_dict(),
  }
  local cmd = os.getenv("SOPHIA_NVIM_CMD")
  if cmd ~= nil and cmd ~= "" then
    opts.cmd = vim.fn.json_decode(cmd)
  end

  local bufnr
  step("setup", function()
    result.api = sophia.setup(opts)
    vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("SOPHIA_NVIM_FILE")))
    vim.cmd("set ft=python") -- -u NONE: no filetype detection
    bufnr = vim.api.nvim_get_current_buf()
  end)

  local client
  step("attached", function()
    wait(20000, "the client to attach", function()
      client = sophia.client(bufnr)
      return client ~= nil and client.initialized ~= false
    end)
    return { name = client.name, root_dir = client.config.root_dir }
  end)

  if os.getenv("SOPHIA_NVIM_SCENARIO") == "commands" then
    return run_commands(sophia, client, bufnr)
  end

  step("diagnostics", function()
    wait(30000, "SA101 and SA102", function()
      return has_code(bufnr, "SA101") and has_code(bufnr, "SA102")
    end)
    return codes(bufnr)
  end)

  step("configuration", function()
    return configuration_answers
  end)

  local uri = vim.uri_from_bufnr(bufnr)
  local actions = {}
  step("code_actions", function()
    local lnum = 5 -- `def price(` (0-based)
    local params = {
      textDocument = { uri = uri },
      range = { start = { line = lnum, character = 4 }, ["end"] = { line = lnum, character = 4 } },
      context = { diagnostics = sophia.line_diagnostics(bufnr, lnum) },
    }
    local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 15000)
    if responses == nil then
      error("no answer to textDocument/codeAction", 0)
    end
    for _, response in pairs(responses) do
      if response.error then
        error("codeAction error: " .. vim.inspect(response.error), 0)
      end
      for _, action in ipairs(response.result or {}) do
        table.insert(actions, action)
      end
    end
    local titles = {}
    for _, action in ipairs(actions) do
      table.insert(titles, action.title)
    end
    return { titles = titles, sent_diagnostics = params.context.diagnostics }
  end)

  step("apply", function()
    local chosen
    for _, action in ipairs(actions) do
      if action.title == "Suppress SA101 on this line" then
        chosen = action
      end
    end
    if chosen == nil then
      error("no 'Suppress SA101 on this line' action", 0)
    end
    local resolved = false
    if chosen.edit == nil then
      local response
      if vim.fn.has("nvim-0.11") == 1 then
        response = client:request_sync("codeAction/resolve", chosen, 15000, bufnr)
      else
        response = client.request_sync("codeAction/resolve", chosen, 15000, bufnr)
      end
      if response == nil or response.err then
        error("codeAction/resolve failed: " .. vim.inspect(response), 0)
      end
      chosen = response.result
      resolved = true
    end
    vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding or "utf-16")
    local line = vim.api.nvim_buf_get_lines(bufnr, 5, 6, false)[1]
    if not line:find("# sophia: ignore[SA101]", 1, true) then
      error("the edit did not add the suppression: " .. line, 0)
    end
    -- after the edit: SA101 suppressed on the line, and SA201 (the TODO on line 3) ignored through `settings`
    -- (the edit also makes pull-diagnostics clients ask again, after the settings surely arrived)
    wait(30000, "SA101 and SA201 to disappear after the edit", function()
      return not has_code(bufnr, "SA101") and not has_code(bufnr, "SA201") and has_code(bufnr, "SA102")
    end)
    return { line = line, resolved = resolved, codes = codes(bufnr) }
  end)

  step("hover", function()
    local params = { textDocument = { uri = uri }, position = { line = 5, character = 5 } }
    local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", params, 15000)
    local text
    for _, response in pairs(responses or {}) do
      local contents = response.result and response.result.contents
      if type(contents) == "table" then
        text = contents.value or vim.inspect(contents)
      end
    end
    if text == nil or not text:find("cyclomatic", 1, true) then
      error("hover did not answer with the metrics: " .. vim.inspect(responses), 0)
    end
    return text
  end)
end

local ok, err = pcall(run)
result.ok = ok
if not ok then
  result.error = tostring(err)
end
local write_ok, write_err = pcall(write_result)
if not write_ok then
  io.stderr:write("cannot write the result: " .. tostring(write_err) .. "\n")
  vim.cmd("cquit!")
end
if ok then
  vim.cmd("qall!")
else
  vim.cmd("cquit!")
end
