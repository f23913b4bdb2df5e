-- Lead routing: an owner for each region (a plugin: its functions are named routing.NAME).
local owners = {north = 'alice', south = 'bob', east = 'chen'}
return {
  assign = function(ctx)
    return {owner = owners[ctx.record.region] or 'pool'}
  end
}
