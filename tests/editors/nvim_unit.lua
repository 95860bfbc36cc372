-- Unit checks of editors/neovim/sophia_artemis.lua's answer-to-display functions, without a server.
-- Run by tests/editors/test_neovim.py as `nvim --headless -u NONE -i NONE -n -c "luafile nvim_unit.lua"`
-- with SOPHIA_NVIM_MODULE_DIR set; exits 0 when every check passed, 1 (cquit) with the failure on stderr.
package.path = os.getenv("SOPHIA_NVIM_MODULE_DIR") .. "/?.lua;" .. package.path
local sophia = require("sophia_artemis")

local function eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(what .. ": expected " .. vim.inspect(expected) .. ", got " .. vim.inspect(actual), 0)
  end
end

local range = { start = { line = 5, character = 4 }, ["end"] = { line = 5, character = 9 } }

local function checks()
  -- search: one quickfix item per result with a uri, at its 1-based line and column
  eq(sophia.search_items({
    results = {
      { path = "shop/pricing.py", uri = "file:///p/shop/pricing.py", qualname = "price", kind = "function", range = range, score = 0.8123 },
      { path = "no/uri.py", qualname = "skipped" },
    },
  }), {
    { filename = "/p/shop/pricing.py", lnum = 6, col = 5, text = "price  [function 0.81]" },
  }, "search_items")

  -- impact: callers, direct then indirect dependents (a direct one not repeated), tests, co-changed files
  local items = sophia.impact_items({
    callers = { { path = "a.py", uri = "file:///p/a.py", range = range, qualname = "Order.total" } },
    dependents = {
      direct = { { module = "shop.catalog", path = "catalog.py", uri = "file:///p/catalog.py" } },
      transitive = {
        { module = "shop.catalog", path = "catalog.py", uri = "file:///p/catalog.py" },
        { module = "manage", path = "manage.py", uri = "file:///p/manage.py" },
      },
    },
    tests = { { path = "tests/test_a.py", uri = "file:///p/tests/test_a.py" } },
    co_changed = { { path = "b.py", uri = "file:///p/b.py", score = 0.5, commits = 3 } },
  })
  eq(vim.tbl_map(function(i) return i.text end, items), {
    "caller: Order.total",
    "dependent (direct): shop.catalog",
    "dependent (indirect): manage",
    "test: tests/test_a.py",
    "co-changed: b.py (score 0.50, 3 commits)",
  }, "impact_items texts")
  eq({ items[1].lnum, items[1].col, items[2].lnum }, { 6, 5, 1 }, "impact_items positions")

  -- report: every section, with "none" rather than nothing
  local lines = sophia.report_lines({
    root = "/p", files = 3, findings = { SA102 = 2, SA101 = 1 }, debt = { over_threshold = 1, excess_complexity = 4 },
    hotspots = {}, cycles = { { "a", "b" } }, snapshots = {},
  })
  eq(lines[1], "Sophia report: /p", "report title")
  eq(lines[3], "3 files · 1 functions over a threshold · excess complexity 4", "report summary")
  eq({ lines[6], lines[7] }, { "  SA101    1", "  SA102    2" }, "report findings sorted")
  assert(vim.tbl_contains(lines, "  a -> b -> a"), "report cycle")
  assert(vim.tbl_contains(lines, "  none yet"), "report empty snapshots")

  -- offers: reads executeCommandProvider.commands (0.7 and 0.8+ keep them in server_capabilities)
  local client = { server_capabilities = { executeCommandProvider = { commands = { "sophia.search" } } } }
  eq({ sophia.offers(client, "sophia.search"), sophia.offers(client, "sophia.graph"), sophia.offers(nil, "x") },
    { true, false, false }, "offers")

  -- the float: centred, editor-relative, `q` closes it
  local win = sophia.float({ "one", "two" }, "title")
  eq(vim.api.nvim_win_get_config(win).relative, "editor", "float relative")
  vim.cmd("normal q")
  eq(vim.api.nvim_win_is_valid(win), false, "q closes the float")

  -- the user commands exist after setup (with no Python buffer open, nothing starts)
  sophia.setup({ cmd = { "true" } })
  for _, name in ipairs({ "SophiaSearch", "SophiaImpact", "SophiaReport", "SophiaRemember" }) do
    eq(vim.fn.exists(":" .. name), 2, name)
  end
end

local ok, err = pcall(checks)
if ok then
  vim.cmd("qall!")
else
  io.stderr:write(tostring(err) .. "\n")
  vim.cmd("cquit!")
end
