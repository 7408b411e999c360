-- Both databases on one server; each service can also have its own server.
CREATE DATABASE IF NOT EXISTS oaf_main CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS oaf_media CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT ALL PRIVILEGES ON oaf_main.* TO 'oaf'@'%';
GRANT ALL PRIVILEGES ON oaf_media.* TO 'oaf'@'%';
