package accountapi

// Paths of the password reset API (public: no session).
const (
	PathPasswordForgot = "/v1/password/forgot"
	PathPasswordReset  = "/v1/password/reset"
)

// Bounds on reset fields.
const (
	MaxResetToken = 128
	MinPassword   = 8
)

// PasswordForgotRequest is the body of POST /v1/password/forgot. The answer
// is 202 whether or not an account has the email.
type PasswordForgotRequest struct {
	Email string `json:"email"`
}

// Validate checks the email is present and bounded.
func (r PasswordForgotRequest) Validate() error {
	if r.Email == "" || len(r.Email) > MaxEmail {
		return invalid("email is required (at most 254 bytes)")
	}
	return nil
}

// PasswordResetRequest is the body of POST /v1/password/reset: the token from
// the mailed link and the new password.
type PasswordResetRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

// Validate checks both fields are present and bounded.
func (r PasswordResetRequest) Validate() error {
	switch {
	case r.Token == "" || len(r.Token) > MaxResetToken:
		return invalid("token is required")
	case len(r.NewPassword) < MinPassword || len(r.NewPassword) > MaxPassword:
		return invalid("new_password must have 8 to 1024 characters")
	}
	return nil
}
