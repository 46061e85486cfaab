//go:build !darwin

package cli

// ServiceName is the service's name for the OS service manager: the Windows
// service the MSI installs, the systemd alias (entitle-agent.service) of the
// Linux packages' unit, or the SysV init script.
const ServiceName = defaultServiceName
