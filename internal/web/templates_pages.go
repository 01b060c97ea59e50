package web

// registerTemplates registers the Templates menu's pages (TPL-1..3).
func (s *Server) registerTemplates() {}
