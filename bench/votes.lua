-- wrk client for bench/votes.py: each wrk thread holds one connection and votes as a
-- string of new visitors, one after another. For each attempt it fetches the code ballot
-- form with no cookie (a new visitor), then posts the form with the session cookie and
-- CSRF token it was given, and "Connection: close", so each voter has a connection of its
-- own, as a browser would. Usage:
--   wrk -t N -c N -d 600s -s bench/votes.lua URL -- FOLDER
-- FOLDER holds attempts-<thread>.txt (lines "code choice,choice ...") and receives
-- outcomes-<thread>.txt (lines "code status refused-with-message"), then an empty
-- finished-<thread> file. wrk itself runs until its -d time or SIGINT, so bench/votes.py
-- stops it once every thread has finished.

local counter = 0

function setup(thread)
  thread:set("number", counter)
  counter = counter + 1
end

local folder, attempts, outcomes, position, cookie, token
local path = wrk.path

function init(args)
  folder = args[1]
  attempts = {}
  for line in io.lines(folder .. "/attempts-" .. number .. ".txt") do
    local code, choices = line:match("^(%S+) (%S+)$")
    attempts[#attempts + 1] = {code = code, choices = choices}
  end
  outcomes = io.open(folder .. "/outcomes-" .. number .. ".txt", "w")
  position = 1
  if #attempts == 0 then
    io.open(folder .. "/finished-" .. number, "w"):close()
  end
end

local function form_body(attempt)
  local parts = {"csrf_token=" .. token, "code=" .. attempt.code}
  for choice in attempt.choices:gmatch("[^,]+") do
    parts[#parts + 1] = "choices=" .. choice
  end
  return table.concat(parts, "&")
end

function request()
  if position > #attempts then  -- finished: idle until bench/votes.py stops wrk
    return wrk.format("GET", "/healthz")
  end
  if token == nil then
    return wrk.format("GET", path)
  end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
    ["Connection"] = "close",
  }, form_body(attempts[position]))
end

local function escape(value)
  return (value:gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function response(status, headers, body)
  if position > #attempts then
    return
  end
  if token == nil then
    local set_cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
    cookie = set_cookie:match("^([^;]+)")
    token = body:match('name="csrf_token" [^>]-value="([^"]+)"')
    if token == nil or cookie == nil then
      error("no CSRF token or session cookie in the ballot form (status " .. status .. ")")
    end
    token = escape(token)
    return
  end
  local refused = (status == 400 and body:find("already been used", 1, true)) and 1 or 0
  outcomes:write(attempts[position].code, " ", status, " ", refused, "\n")
  token, cookie = nil, nil
  position = position + 1
  if position > #attempts then
    outcomes:close()
    io.open(folder .. "/finished-" .. number, "w"):close()
  end
end
