package svc

import "os"

// exitedEarly: under the Windows service control manager there is no hook to
// end the service loop from inside, so a body that fails on its own exits the
// process with status 1; the service recovery settings then apply.
func exitedEarly(err error) {
	if err != nil {
		os.Exit(1)
	}
}
