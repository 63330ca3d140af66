package hub

import "time"

// SetPreAuthTimeout sets how long an enrollment or an M-PESA callback has
// to deliver its body (10 s), so a test of stalled bodies does not wait
// that long. Call it before serving. Tests only.
func (s *Server) SetPreAuthTimeout(d time.Duration) {
	s.enrollGate.timeout = d
	s.mpesaGate.timeout = d
}
