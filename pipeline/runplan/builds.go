package runplan

import (
	"slices"
)

// BuildPlan is what a run builds before any cell runs: each image for each
// of its platforms, and the Dockerfile stages its cells run in.
type BuildPlan struct {
	Images []ImageBuild `json:"images"`
	// Stages are the runner stages (runner.build) the cells need, each
	// built once per run.
	Stages []StageBuild `json:"stages,omitempty"`
}

// ImageBuild is one image's builds, one per platform.
type ImageBuild struct {
	Name string `json:"name"`
	// Builder is the buildpacks builder (build.buildpacks), "" for a
	// Dockerfile build.
	Builder string `json:"builder,omitempty"`
	// Dockerfile, Context and Target say the Dockerfile build.
	Dockerfile string          `json:"dockerfile,omitempty"`
	Context    string          `json:"context,omitempty"`
	Target     string          `json:"target,omitempty"`
	Platforms  []PlatformBuild `json:"platforms"`
}

// StageBuild is a runner stage: a target of an image's Dockerfile.
type StageBuild struct {
	Target string `json:"target"`
	// Image is the image whose build section builds it.
	Image string `json:"image"`
}

// PlatformBuild is one platform of an image's build.
type PlatformBuild struct {
	Platform string `json:"platform"`
	// Tested: the image's cells run on it (its first platform).
	Tested bool `json:"tested"`
	// Cells run on it too (suites and smoke with platforms: all), on a
	// later platform; none means built only.
	Cells int `json:"cells"`
}

// Builds is what the plan builds (its shard's cells decide the counts).
func (p *Plan) Builds() BuildPlan {
	var out BuildPlan
	for i, im := range p.Images {
		b := ImageBuild{Name: im.Name}
		if bp := im.Build.Buildpacks; !bp.IsZero() {
			b.Builder = bp.Builder
		} else {
			b.Dockerfile, b.Context, b.Target = im.Build.Dockerfile, im.Build.Context, im.Build.Target
		}
		for j, pl := range im.Build.Platforms {
			pb := PlatformBuild{Platform: pl, Tested: j == 0}
			for _, c := range p.Cells {
				if c.Platform == pl && j > 0 && (c.Image == im.Name || (c.Image == "" && i == 0)) {
					pb.Cells++
				}
			}
			b.Platforms = append(b.Platforms, pb)
		}
		out.Images = append(out.Images, b)
	}
	for _, c := range p.Cells {
		st := StageBuild{Target: c.Runner.Build.Target, Image: c.Runner.Build.Image}
		if st.Image == "" && len(p.Images) > 0 {
			st.Image = p.Images[0].Name
		}
		if st.Target != "" && !slices.Contains(out.Stages, st) {
			out.Stages = append(out.Stages, st)
		}
	}
	return out
}
