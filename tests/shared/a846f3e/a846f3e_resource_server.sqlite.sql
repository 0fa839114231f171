-- resource_server tables as release a846f3e's create_all made them (sqlite)

CREATE TABLE account (
	sub VARCHAR(255) NOT NULL,
	uuid VARCHAR(64) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	client_id VARCHAR(255),
	email VARCHAR(254),
	droplet_limit INTEGER NOT NULL,
	status VARCHAR(16) NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (sub)
);

CREATE TABLE droplet (
	id INTEGER NOT NULL,
	owner_sub VARCHAR NOT NULL,
	name VARCHAR(63) NOT NULL,
	region VARCHAR(32) NOT NULL,
	size VARCHAR(32) NOT NULL,
	image VARCHAR(64) NOT NULL,
	status VARCHAR(16) NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(owner_sub) REFERENCES account (sub) ON DELETE CASCADE
);

CREATE INDEX ix_droplet_owner_sub ON droplet (owner_sub);
