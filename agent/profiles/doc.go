// Package profiles manages the signature profiles of one computer: a folder
// holding one subfolder per profile (metadata, certificate and private key),
// plus a file naming the default profile. The Manager scans and checks the
// folder, watches it for changes, creates, imports, exports and deletes
// profiles, and moves them between computers as one passphrase-encrypted
// bundle (see the bundle subpackage). The on-disk format is described in
// docs/profiles.md.
package profiles
