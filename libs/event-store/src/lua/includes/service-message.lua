--[[
  The fields of a service message on a service stream (see stream-message.ts), in one place: the
  append script's message effects (message() in includes/mission-effects) and the return script's
  ready-work message (return-leased-missions-8.lua) write them with serviceMessage, so the layout
  the transport reads is spelled once in Lua.

  serviceMessage(pattern, data, traceFields) gives the fields for the end of an XADD call: the
  pattern (routed by MESSAGE_ROUTES in patterns.ts, whose stream the caller's key is), the payload
  as JSON, and the trace fields of the step that writes it ({ 'traceparent', …[, 'tracestate', …] },
  or {} when it continues no trace).
]]

local function serviceMessage(pattern, data, traceFields)
  return 'pattern', pattern, 'data', data, unpack(traceFields)
end
