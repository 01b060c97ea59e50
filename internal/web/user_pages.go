package web

// registerUserPages registers the create-user wizard and change-user pages
// (USR-1..3).
func (s *Server) registerUserPages() {}
