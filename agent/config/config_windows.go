package config

// On Windows the MSI writes its silent-install properties (SERVERURL,
// ENROLLMENTTOKEN, MANAGEMENTMODE, PINNEDKEYS) as REG_SZ values of
// HKLM\SOFTWARE\Entitle\Agent; Load layers them between agent.toml and the
// environment.

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// readRegistry returns the set values of RegistryKey in the 64-bit view (where
// the x64 MSI writes). A missing key or value is unset, not an error; a value
// that is not a string is an error naming it (never showing its content).
func readRegistry() (map[string]string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, RegistryKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(`config: registry key HKLM\%s: %w`, RegistryKey, err)
	}
	defer k.Close()
	out := make(map[string]string)
	for _, name := range RegistryValues() {
		v, _, err := k.GetStringValue(name)
		switch {
		case errors.Is(err, registry.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf(`config: registry value HKLM\%s\%s: %w`, RegistryKey, name, err)
		}
		out[name] = v
	}
	return out, nil
}
