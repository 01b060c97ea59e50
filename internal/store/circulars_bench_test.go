package store

import (
	"context"
	"testing"
)

// BenchmarkCircular10k: a reseller with 10,000 users sends a circular.
// A page of candidates deep in the list, the progress counts and a page of
// recipients must each stay a few milliseconds; queueing all is one
// INSERT … SELECT (USR-4).
func BenchmarkCircular10k(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		a := seedUsers(b, s, 10000)
		id, err := s.CreateCircular(ctx, a, NewCircular{From: "r@res.example", Subject: "s", Body: "b"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("candidates-page", func(b *testing.B) {
			for b.Loop() {
				pg, err := s.CircularCandidates(ctx, a, id, CandidateFilter{Offset: 9000, Limit: 50})
				if err != nil || len(pg.Rows) != 50 || pg.All != 10000 {
					b.Fatal(len(pg.Rows), pg.All, err)
				}
			}
		})
		sent, n, err := s.SendCircular(ctx, a, NewCircular{From: "r@res.example", Subject: "s", Body: "b"}, true, nil)
		if err != nil || n != 10000 {
			b.Fatal(n, err)
		}
		b.Run("progress", func(b *testing.B) {
			for b.Loop() {
				c, err := s.Circular(ctx, a, sent)
				if err != nil || c.Counts.Total != 10000 {
					b.Fatal(c.Counts, err)
				}
				if rows, _, err := s.CircularRecipients(ctx, a, sent, RecipientFilter{Offset: 9000, Limit: 50}); err != nil || len(rows) != 50 {
					b.Fatal(len(rows), err)
				}
			}
		})
		b.Run("claim-finish", func(b *testing.B) {
			for b.Loop() {
				j, ok, err := s.ClaimCircularRecipient(ctx, 1<<40, 2)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
				if err := s.FinishCircularRecipient(ctx, j.Circular.ID, j.Recipient.UserID, "", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
