package adminapi

// HTTPStatus is the HTTP status of an error code of this package, and false
// for codes it does not define (pkg/protocol's HTTPStatus covers those).
func HTTPStatus(code string) (int, bool) {
	switch code {
	case ErrForbidden, ErrDomainNotApproved, ErrInvitationMismatch:
		return 403, true
	case ErrAlreadyMember, ErrLastOwner, ErrDomainUnverified, ErrAccountExists, ErrSeatsAssigned,
		ErrOrderState, ErrOrderEmpty, ErrPlanInactive, ErrCurrencyMismatch, ErrPlanCodeTaken:
		return 409, true
	case ErrInvitationExpired, ErrInvitationUsed:
		return 410, true
	case ErrIdempotencyReused:
		return 409, true
	case ErrTooManyDevices:
		return 400, true
	}
	return 0, false
}

// Codes lists the error codes of this package.
func Codes() []string {
	return []string{ErrAlreadyMember, ErrLastOwner, ErrDomainNotApproved, ErrDomainUnverified, ErrInvitationExpired,
		ErrInvitationUsed, ErrForbidden, ErrInvitationMismatch, ErrAccountExists,
		ErrIdempotencyReused, ErrTooManyDevices, ErrSeatsAssigned,
		ErrOrderState, ErrOrderEmpty, ErrPlanInactive, ErrCurrencyMismatch, ErrPlanCodeTaken}
}
