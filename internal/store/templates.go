package store

import (
	"context"
	"errors"

	"kontor/internal/panel"
)

// errTemplatesPending marks the template store as not built yet; the
// templates feature replaces this file.
var errTemplatesPending = panel.Internal(errors.New("templates: not built yet"))

// Templates lists the actor's templates (a reseller's own), by name.
func (s *Store) Templates(ctx context.Context, actor panel.Actor) ([]panel.Template, error) {
	return nil, errTemplatesPending
}

// Template returns one of the actor's templates.
func (s *Store) Template(ctx context.Context, actor panel.Actor, id int64) (panel.Template, error) {
	return panel.Template{}, errTemplatesPending
}
