-- handler.lua: the Lua 5.4 side of bench/vm: the `on enter` handler of
-- handler.pipe written as a Lua programmer would, against a host as thin
-- as bench_vm.c's.
--
--   lua5.4 handler.lua N [-v]
--
-- To keep the work comparable with the VM's:
--   * money is integer kopecks, dates are days since the epoch, enum values
--     are interned strings, records are tables;
--   * every field the .pipe source reads is read through a function call
--     (get), once per read in the source, as the VM reads through its host
--     (a `contact.vip` is two reads: the deal's contact, then its vip);
--   * effects go through a function call (effect) into preallocated
--     arrays, emptied before every run, like bench_vm.c's effect buffer;
--   * each run takes the next of the same eight deals; the timed runs only
--     count the effects, then the same runs again, untimed, fold every
--     effect into the checksum bench_vm.c computes the same way.
-- Where the .pipe builds a list only to sum it (`total([p for p in payments
-- where p > 0])`), the Lua sums in the loop: that is how one writes it in
-- Lua, and it is the work a compiler could also avoid.
--
-- Output, one line: `lua seconds=S runs=N effects=E checksum=C` (seconds by
-- os.clock: CPU time).
-- -v also lists the effects of the warm-up round, one line per deal.

local N = math.tointeger(tonumber(arg[1])) or 1000000
local verbose = arg[2] == "-v"

-- 2026-03-10 12:00 in Moscow (UTC+3), the clock of every run.
local NOW = 1773133200
local ZONE_OFFSET = 3 * 3600
local TODAY = 20522 -- 2026-03-10, days since 1970-01-01

-- ---- the host -----------------------------------------------------------

local function get(rec, field)
  return rec[field]
end

local SET, MOVE = 1, 2
local FIELD = { rest = 1, risk = 2 }
local STAGE = { check = 0, waiting = 1, priority = 2, shipping = 3,
                collection = 4, refund_check = 5, won = 6, lost = 7 }

local eff_what, eff_rec, eff_index, eff_value = {}, {}, {}, {}
local neff = 0

local function effect(what, rec, index, value)
  neff = neff + 1
  eff_what[neff], eff_rec[neff], eff_index[neff], eff_value[neff] = what, rec, index, value
end

-- ---- builtins and the pack's function -------------------------------------

local function today()
  return (NOW + ZONE_OFFSET) // 86400
end

local function total(list)
  local s = 0
  for i = 1, #list do s = s + list[i] end
  return s
end

local function days_between(a, b)
  return b - a
end

-- How risky the debt is: 3 high, 2 medium, 1 low.
local function risk_score(rest, limit, days_late, vip)
  if vip then return 1 end
  if days_late > 30 or rest > limit then return 3 end
  if days_late > 7 then return 2 end
  return 1
end

-- ---- the handler: stage sales.check, on enter -------------------------------

local function on_enter_check(self)
  local paid = total(get(self, "payments"))
  local received = 0
  local payments = get(self, "payments")
  for i = 1, #payments do
    local p = payments[i]
    if p > 0 then received = received + p end
  end
  local refunded = received - paid
  local remaining = get(self, "sum") - paid - (get(self, "discount") or 0)
  local late = get(self, "due_date") ~= nil and get(self, "due_date") < today()
  effect(SET, self, FIELD.rest, remaining)
  if remaining <= 0 then
    if refunded > 0 then
      effect(MOVE, self, STAGE.refund_check)
    else
      effect(MOVE, self, STAGE.won)
    end
  elseif get(self, "prepaid_only") and paid == 0 then
    effect(MOVE, self, STAGE.waiting)
  elseif late and not get(get(self, "contact"), "vip")
      and (get(get(self, "contact"), "debt") or 0) + remaining > get(get(self, "contact"), "credit_limit") then
    effect(SET, self, FIELD.risk, risk_score(remaining, get(get(self, "contact"), "credit_limit"),
      days_between(get(self, "due_date"), today()), get(get(self, "contact"), "vip")))
    effect(MOVE, self, STAGE.collection)
  elseif get(self, "kind") == "wholesale" and #get(self, "payments") >= 2 and paid * 2 >= get(self, "sum") then
    effect(MOVE, self, STAGE.shipping)
  else
    local kind = get(self, "urgent") and get(self, "kind")
    if kind == "retail" or kind == "service" then
      effect(MOVE, self, STAGE.priority)
    else
      effect(MOVE, self, STAGE.waiting)
    end
  end
end

-- ---- the data: the same as bench_vm.c's ------------------------------------

local contacts = {
  { id = 1, vip = false, credit_limit = 30000000, debt = 28000000 },
  { id = 2, vip = true, credit_limit = 10000000, debt = 50000000 },
  { id = 3, vip = nil, credit_limit = 100000000, debt = nil },
  { id = 4, vip = false, credit_limit = 5000000, debt = 0 },
}

local function deal(id, sum, contact, kind, urgent, prepaid_only, payments, discount, due)
  return { id = id, sum = sum, contact = contacts[contact], kind = kind, urgent = urgent,
           prepaid_only = prepaid_only, payments = payments, discount = discount,
           due_date = due and TODAY + due }
end

local deals = {
  deal(1, 10000000, 1, "retail", false, false, { 6000000, 4000000 }, nil, -5),
  deal(2, 10000000, 2, "wholesale", false, false, { 5000000, 6000000, -1000000 }, nil, nil),
  deal(3, 4500000, 3, "service", true, true, {}, 150000, 10),
  deal(4, 12000000, 1, "retail", false, false, { 1500000, 1500000, 1000000 }, nil, -40),
  deal(5, 10000000, 3, "wholesale", false, false, { 3000000, 2500000 }, nil, 14),
  deal(6, 5000000, 4, "retail", true, false, { 1000000 }, 50000, 3),
  deal(7, 9000000, 3, "service", false, false,
       { 1000000, 1200000, 800000, 950000, 1050000, -200000 }, 500000, 5),
  deal(8, 8000000, 4, "wholesale", true, false, { 2000000, 1000000, 1500000, -500000, 800000 }, nil, -3),
}
local ndeals = #deals

-- ---- the run -------------------------------------------------------------------

local FIELD_NAME, STAGE_NAME = {}, {}
for k, v in pairs(FIELD) do FIELD_NAME[v] = k end
for k, v in pairs(STAGE) do STAGE_NAME[v] = k end

-- a warm-up round
for k = 1, ndeals do
  neff = 0
  on_enter_check(deals[k])
  if verbose then
    local line = { "deal " .. k .. ":" }
    for e = 1, neff do
      if eff_what[e] == SET then
        line[#line + 1] = " set " .. FIELD_NAME[eff_index[e]] .. "=" .. eff_value[e]
      else
        line[#line + 1] = " move " .. STAGE_NAME[eff_index[e]]
      end
    end
    print(table.concat(line))
  end
end

-- the timed runs: the host only counts the effects
local count = 0
local t0 = os.clock()
for it = 0, N - 1 do
  neff = 0
  on_enter_check(deals[it % ndeals + 1])
  count = count + neff
end
local t = os.clock() - t0

-- the same runs again, untimed, folding every effect into the checksum
local h = 0
for it = 0, N - 1 do
  neff = 0
  on_enter_check(deals[it % ndeals + 1])
  for k = 1, neff do
    h = h * 1000003 + eff_what[k]
    h = h * 1000003 + eff_rec[k].id
    h = h * 1000003 + eff_index[k]
    h = h * 1000003 + (eff_value[k] or 0)
  end
end
print(string.format("lua seconds=%.6f runs=%d effects=%d checksum=%d", t, N, count, h))
