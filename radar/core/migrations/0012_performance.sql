-- Performance issue #17: a document whose text changed is split again.
-- The content_hash of the document text each passage was split from; when the
-- document's content_hash moves on (a crawler stored a new version), `radar
-- analyze` drops the document's passages, their embeddings and topic
-- assignments, and splits, embeds and assigns the new text.
ALTER TABLE passages ADD COLUMN doc_content_hash VARCHAR;

-- Passages that exist already were split from the text the documents hold now.
UPDATE passages SET doc_content_hash = d.content_hash
FROM documents d WHERE passages.doc_id = d.doc_id;
