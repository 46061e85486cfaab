package signing

// SigningKID is the id of the key this Service signs with now.
func (s *Service) SigningKID() string { return s.signer.Load().signer.KeyID() }
