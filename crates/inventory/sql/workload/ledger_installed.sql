-- Whether migration 004's rules are in place (direct writes are recorded).
SELECT EXISTS (SELECT FROM pg_trigger
               WHERE tgname = 'trg_stock_on_hand_capture'
                 AND tgrelid = to_regclass('core.stock_on_hand')) AS installed
