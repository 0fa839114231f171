-- demo_client tables as release a846f3e's create_all made them (postgresql)

CREATE TABLE browser_session (
	id_hash VARCHAR NOT NULL,
	csrf_token VARCHAR NOT NULL,
	created_at FLOAT NOT NULL,
	expires_at FLOAT NOT NULL,
	pending JSON NOT NULL,
	grants JSON NOT NULL,
	flows JSON NOT NULL,
	notice VARCHAR NOT NULL,
	PRIMARY KEY (id_hash)
);
