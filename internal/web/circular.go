package web

// registerCircular registers the circular pages (USR-4).
func (s *Server) registerCircular() {}
