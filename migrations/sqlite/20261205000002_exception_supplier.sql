-- Each exception's supplier beside it (the `supplier` business key), so
-- that a supplier's view reads one index in its order rather than joining
-- through every business key. Filling the column is no change a console
-- needs to hear of: the trigger that counts changes is set aside meanwhile.
ALTER TABLE exceptions ADD COLUMN supplier TEXT;
DROP TRIGGER exceptions_live_update;
UPDATE exceptions SET supplier = (
    SELECT r.value FROM exception_refs r WHERE r.exception_id = exceptions.id AND r.kind = 'supplier'
);
CREATE TRIGGER exceptions_live_update AFTER UPDATE ON exceptions
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
CREATE INDEX exceptions_supplier_due ON exceptions (supplier, sla_sort, id) WHERE supplier IS NOT NULL;
