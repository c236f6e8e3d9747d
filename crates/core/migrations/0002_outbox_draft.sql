-- A submission made from a form names the form's draft: the draft is removed only once the server
-- confirmed the submission, whether it went at once or later from the outbox.
ALTER TABLE outbox ADD COLUMN draft_item TEXT;
