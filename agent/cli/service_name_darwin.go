package cli

// ServiceName is the launchd Label kardianos/service uses on macOS: the one of
// the packaged LaunchDaemon (/Library/LaunchDaemons/com.entitle.agent.plist),
// so `entitle service status|stop|start` find the daemon the .pkg installed.
const ServiceName = launchdServiceName
