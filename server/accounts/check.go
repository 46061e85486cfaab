package accounts

// CheckPassword checks a new password's bounds (for domains that create
// accounts through InsertAccount, such as accepting an invitation).
func CheckPassword(pw string) error { return checkPassword(pw) }
