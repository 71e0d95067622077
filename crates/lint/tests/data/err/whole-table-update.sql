UPDATE core.stock_on_hand SET unit_cost = cost_price; -- expect: whole-table-update
