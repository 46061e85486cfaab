package servertest

// Kill ends the server with SIGKILL (kill -9), as a crash would: nothing it
// had not committed survives, no shutdown code runs. The test's cleanup then
// expects nothing more of it.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.err = nil // killed on purpose: not a failed stop
}
