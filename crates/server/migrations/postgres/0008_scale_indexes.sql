-- Indexes the scale benchmark (benches/scale.rs, a million residents) showed missing.
-- Keep in step with the other dialect's 0008. Applied migrations are never edited.

-- "My cases": a verified reporter's own cases are found through their registry person.
CREATE INDEX cases_by_person ON cases (person_id, reported_at);
