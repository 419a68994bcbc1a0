package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

// ClientRecords reads promotion records with the registry package's
// client: the tags a promotion applied are as young as that promotion.
type ClientRecords struct{ Client *registry.Client }

// PromotionTimes implements RecordReader. It asks the registry only when a
// referrer of subject is a promotion record.
func (c ClientRecords) PromotionTimes(ctx context.Context, subject name.Digest, referrers []v1.Descriptor) (map[string]time.Time, error) {
	any := false
	for _, d := range referrers {
		if d.ArtifactType == registry.ArtifactType {
			any = true
		}
	}
	if !any {
		return nil, nil
	}
	recs, err := c.Client.ReadPromotionRecords(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("reading promotion records: %w", err)
	}
	out := make(map[string]time.Time)
	for _, r := range recs {
		for _, t := range append(append([]string(nil), r.Tags...), r.Floating...) {
			if at, ok := registry.LatestPromotion(recs, t); ok {
				out[t] = at
			}
		}
	}
	return out, nil
}
