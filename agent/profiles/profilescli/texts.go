package profilescli

// The words of the profile commands, one block per command, so the
// catalog (pkg/i18n, English and French) can take them over in one place.
// Formats take their arguments in the order of the comment.

// Shared by the commands that take a profile argument.
const (
	txtNoMatch    = "no profile has the id, id prefix or name %q (see 'entitle profiles list')" // arg
	txtAmbiguous  = "%q matches several profiles: %s; give more of the id or the exact name"    // arg, candidates
	txtCandidate  = "%s (%q)"                                                                   // id, name
	txtCancelled  = "Cancelled."
	txtNoTerminal = "no terminal to confirm on: pass --yes"
	txtLimitWarn  = "Warning: profile %q is not usable: %s. Delete another profile or upgrade the plan.\n" // name, reason
)

// profiles list
const (
	txtListEmpty     = "No signature profile. Create one with 'entitle profiles create --owner NAME'."
	txtListHeader    = "\tID\tNAME\tOWNER\tSTATUS\tUNTIL"
	txtListWhy       = "Why %q is %s: %s\n" // name, status, reason
	txtListLoose     = "%s in the profile folder is not a profile: %s.\n"
	txtListLooseHint = "  To use it: %s\n" // command
)

// profiles show
const (
	txtShowCA         = "issued by a certification authority"
	txtShowSelfSigned = "self-signed"
	txtShowAdopted    = "no profile.json: id from the folder name, name and owner from the certificate"
)

// profiles create
const txtCreated = "Created profile %q (%s).\n" // name, id

// profiles delete
const (
	txtDeleteAsk = "Delete profile %q (%s) and its private key? Export it first if you may need it. [y/N] " // name, id
	txtDeleted   = "Deleted profile %q (%s).\n"                                                             // name, id
)

// profiles default
const txtDefault = "%q is now the default profile.\n" // name

// profiles export
const txtExported = "Exported profile %q to %s.\n" // name, file

// profiles import, migrate import
const (
	txtImported      = "Imported %q (%s): %s.\n" // name, id, status
	txtImportedFiles = "  restored: %s\n"        // file names
	txtSkipped       = "%d profile(s) already present, skipped.\n"
)

// migrate export, migrate import
const (
	txtMigPassNew          = "Passphrase protecting the file (at least 8 characters): "
	txtMigExported         = "Profiles exported to %s. Keep the passphrase: it is needed on the new computer.\n"
	txtMigDeactivateAsk    = "Deactivate this computer now, to free its seat for the new one? [y/N] "
	txtMigStaysActive      = "This computer stays activated. Run 'entitle deactivate' when you are ready."
	txtMigDeactivateFailed = "the profiles are exported, but deactivation failed: %w"
	txtMigDeactivated      = "This computer is deactivated."
	txtMigActivateAsk      = "Activate this computer now? [y/N] "
	txtMigActivateLater    = "Run 'entitle activate' to activate this computer."
	txtMigActivateFailed   = "the profiles are imported, but activation failed: %w"
	txtMigActivateOpen     = "To activate, open %s and enter the code %s.\n"
	txtMigActivation       = "Activation: %s.\n"
	txtMigPassOf           = "Passphrase of %s: "
)

// secrets and files, shared
const (
	txtNotTerminal   = "stdin is not a terminal: pass the secret on stdin with --passphrase-stdin"
	txtExportPass    = "Password for the exported file: "
	txtSecretTooLong = "the secret is too long"
	txtSecretsDiffer = "the two entries differ"
	txtFileExists    = "%s exists (pass --force to overwrite)"
	txtFileTooLarge  = "%s is larger than %d bytes"
	txtAgain         = "Again: "
	txtImportPass    = "Password of %s: "
)
