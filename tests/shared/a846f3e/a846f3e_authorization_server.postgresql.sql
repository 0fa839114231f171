-- authorization_server tables as release a846f3e's create_all made them (postgresql)

CREATE TABLE "user" (
	id VARCHAR NOT NULL,
	email VARCHAR(254) NOT NULL,
	name VARCHAR(100) NOT NULL,
	password_hash VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_user_email ON "user" (email);

CREATE TABLE usersession (
	token_hash VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (token_hash),
	FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE CASCADE
);

CREATE INDEX ix_usersession_user_id ON usersession (user_id);

CREATE TABLE client (
	client_id VARCHAR NOT NULL,
	client_secret_hash VARCHAR,
	name VARCHAR(100) NOT NULL,
	website VARCHAR(2000) NOT NULL,
	description VARCHAR(1000) NOT NULL,
	redirect_uris JSON NOT NULL,
	grant_types JSON NOT NULL,
	scope VARCHAR NOT NULL,
	client_type VARCHAR NOT NULL,
	trusted BOOLEAN NOT NULL,
	owner_id VARCHAR,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (client_id),
	FOREIGN KEY(owner_id) REFERENCES "user" (id)
);

CREATE INDEX ix_client_owner_id ON client (owner_id);

CREATE TABLE consent (
	id SERIAL NOT NULL,
	user_id VARCHAR NOT NULL,
	client_id VARCHAR NOT NULL,
	scope VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (user_id, client_id),
	FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE CASCADE,
	FOREIGN KEY(client_id) REFERENCES client (client_id) ON DELETE CASCADE
);

CREATE INDEX ix_consent_client_id ON consent (client_id);

CREATE TABLE authorizationcode (
	code_hash VARCHAR NOT NULL,
	client_id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	redirect_uri VARCHAR NOT NULL,
	scope VARCHAR NOT NULL,
	code_challenge VARCHAR,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	consumed_at TIMESTAMP WITH TIME ZONE,
	token_family_id VARCHAR,
	PRIMARY KEY (code_hash),
	FOREIGN KEY(client_id) REFERENCES client (client_id) ON DELETE CASCADE,
	FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE CASCADE
);

CREATE TABLE tokenfamily (
	id VARCHAR NOT NULL,
	client_id VARCHAR NOT NULL,
	user_id VARCHAR,
	scope VARCHAR NOT NULL,
	origin VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	revoked_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(client_id) REFERENCES client (client_id) ON DELETE CASCADE,
	FOREIGN KEY(user_id) REFERENCES "user" (id)
);

CREATE INDEX ix_tokenfamily_client_id ON tokenfamily (client_id);

CREATE INDEX ix_tokenfamily_user_id ON tokenfamily (user_id);

CREATE TABLE refreshtoken (
	token_hash VARCHAR NOT NULL,
	family_id VARCHAR NOT NULL,
	client_id VARCHAR NOT NULL,
	scope VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	rotated_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (token_hash),
	FOREIGN KEY(family_id) REFERENCES tokenfamily (id) ON DELETE CASCADE
);

CREATE INDEX ix_refreshtoken_family_id ON refreshtoken (family_id);

CREATE TABLE issuedaccesstoken (
	jti VARCHAR NOT NULL,
	family_id VARCHAR NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (jti),
	FOREIGN KEY(family_id) REFERENCES tokenfamily (id) ON DELETE CASCADE
);

CREATE INDEX ix_issuedaccesstoken_family_id ON issuedaccesstoken (family_id);

CREATE TABLE revokedaccesstoken (
	jti VARCHAR NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	revoked_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (jti)
);

CREATE INDEX ix_revokedaccesstoken_revoked_at ON revokedaccesstoken (revoked_at);

CREATE TABLE revokedclient (
	client_id VARCHAR NOT NULL,
	revoked_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (client_id)
);

CREATE TABLE signingkeyrecord (
	kid VARCHAR NOT NULL,
	algorithm VARCHAR NOT NULL,
	private_pem VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	active_from TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (kid)
);
