// Package buildpacks builds an image the way a Cloud Native Buildpacks
// platform does: the lifecycle of a builder image (/cnb/lifecycle/creator)
// runs in the builder against the sources, with the platform's extra
// buildpacks and build-time environment, and exports the app image on the
// run image as an OCI image layout (no Docker daemon, no registry, no pack
// CLI). Every decision of that build is here: what the builder's labels and
// environment say, which Platform API to speak, the run image, order.toml,
// the platform's env files, the directory layout and the argv of each step.
// An Engine (the Dagger module) only places files and runs the steps.
//
// The creator's interface is the one of lifecycle v0.20.5 (Platform API 0.12
// to 0.14: the versions whose creator exports to an OCI layout, -layout).
package buildpacks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The builder's labels Slipway reads (the Builder specification's, as pack
// and kpack write them).
const (
	// LabelBuilderMetadata holds the builder's run image.
	LabelBuilderMetadata = "io.buildpacks.builder.metadata"
	// LabelOrder is the builder's order.toml as JSON.
	LabelOrder = "io.buildpacks.buildpack.order"
	// LabelLifecycleAPIs lists the Platform APIs the builder's lifecycle
	// supports.
	LabelLifecycleAPIs = "io.buildpacks.lifecycle.apis"
	// LabelPackage names the buildpack a buildpackage image holds.
	LabelPackage = "io.buildpacks.buildpackage.metadata"
)

// The builder's environment variables Slipway reads: the build image's
// user, who runs the lifecycle and owns what it writes.
const (
	EnvUID = "CNB_USER_ID"
	EnvGID = "CNB_GROUP_ID"
)

// BuilderLabels are the labels an Engine reads from the builder image.
var BuilderLabels = []string{LabelBuilderMetadata, LabelOrder, LabelLifecycleAPIs}

// BuilderEnv are the environment variables an Engine reads from it.
var BuilderEnv = []string{EnvUID, EnvGID}

// PlatformAPIs are the Platform API versions Slipway speaks to a lifecycle,
// oldest first: those whose creator has -layout, -layout-dir and -run
// (0.12 on), up to the newest lifecycle v0.20.5 supports.
var PlatformAPIs = []string{"0.12", "0.13", "0.14"}

// Image is what an Engine read from an image's config: the labels and
// environment variables asked for, "" for those it does not set.
type Image struct {
	Labels map[string]string
	Env    map[string]string
}

// Builder is what a builder image says about itself.
type Builder struct {
	// Ref is the builder image, pinned by digest.
	Ref string
	// UID and GID are the build image's user (CNB_USER_ID, CNB_GROUP_ID).
	UID, GID int
	// PlatformAPI is the newest of PlatformAPIs its lifecycle supports.
	PlatformAPI string
	// RunImage is the run image its metadata names, "" for none.
	RunImage string
	// Order is its order (LabelOrder), nil when it has no such label.
	Order Order
}

// ReadBuilder reads what img (the builder ref's config) says. An error
// names the builder, the label or variable, and what is wrong with it.
func ReadBuilder(ref string, img Image) (Builder, error) {
	b := Builder{Ref: ref}
	var err error
	if b.UID, err = id(img.Env[EnvUID]); err != nil {
		return Builder{}, fmt.Errorf("builder %s: %s: %w", ref, EnvUID, err)
	}
	if b.GID, err = id(img.Env[EnvGID]); err != nil {
		return Builder{}, fmt.Errorf("builder %s: %s: %w", ref, EnvGID, err)
	}
	if b.PlatformAPI, err = platformAPI(img.Labels[LabelLifecycleAPIs], img.Labels[LabelBuilderMetadata]); err != nil {
		return Builder{}, fmt.Errorf("builder %s: %w", ref, err)
	}
	if b.RunImage, err = runImage(img.Labels[LabelBuilderMetadata]); err != nil {
		return Builder{}, fmt.Errorf("builder %s: label %s: %w", ref, LabelBuilderMetadata, err)
	}
	if s := img.Labels[LabelOrder]; s != "" {
		if b.Order, err = ParseOrder(s); err != nil {
			return Builder{}, fmt.Errorf("builder %s: label %s: %w", ref, LabelOrder, err)
		}
	}
	return b, nil
}

// id reads a user or group id: a builder must name its build user.
func id(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("not set: a builder image sets its build user's id")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<31-2 {
		return 0, fmt.Errorf("%q is not a user or group id", s)
	}
	return n, nil
}

// apis is the shape of LabelLifecycleAPIs (and of the lifecycle.apis of
// LabelBuilderMetadata).
type apis struct {
	Platform struct {
		Deprecated []string `json:"deprecated"`
		Supported  []string `json:"supported"`
	} `json:"platform"`
}

// builderMetadata is the part of LabelBuilderMetadata Slipway reads.
type builderMetadata struct {
	// Images are the run images of newer builders (pack 0.30 on).
	Images []struct {
		Image string `json:"image"`
	} `json:"images"`
	// Stack is the older form.
	Stack struct {
		RunImage struct {
			Image string `json:"image"`
		} `json:"runImage"`
	} `json:"stack"`
	Lifecycle struct {
		APIs *apis `json:"apis"`
	} `json:"lifecycle"`
}

// platformAPI picks the newest of PlatformAPIs the builder's lifecycle
// supports (deprecated ones too: they still work). A builder that says
// nothing about it gets the oldest, 0.12: a lifecycle older than v0.15
// then refuses it by name.
func platformAPI(apisLabel, metadataLabel string) (string, error) {
	var a *apis
	switch {
	case apisLabel != "":
		a = new(apis)
		if err := json.Unmarshal([]byte(apisLabel), a); err != nil {
			return "", fmt.Errorf("label %s: %w", LabelLifecycleAPIs, err)
		}
	case metadataLabel != "":
		var md builderMetadata
		if err := json.Unmarshal([]byte(metadataLabel), &md); err != nil {
			return "", fmt.Errorf("label %s: %w", LabelBuilderMetadata, err)
		}
		a = md.Lifecycle.APIs
	}
	if a == nil {
		return PlatformAPIs[0], nil
	}
	all := append(slices.Clone(a.Platform.Supported), a.Platform.Deprecated...)
	for i := len(PlatformAPIs) - 1; i >= 0; i-- {
		if slices.Contains(all, PlatformAPIs[i]) {
			return PlatformAPIs[i], nil
		}
	}
	return "", fmt.Errorf("its lifecycle supports the Platform APIs %s; Slipway needs one of %s (export to an OCI layout): use a builder with lifecycle v0.15 or newer",
		strings.Join(all, ", "), strings.Join(PlatformAPIs, ", "))
}

// runImage is the first run image the builder's metadata names.
func runImage(metadataLabel string) (string, error) {
	if metadataLabel == "" {
		return "", nil
	}
	var md builderMetadata
	if err := json.Unmarshal([]byte(metadataLabel), &md); err != nil {
		return "", err
	}
	if len(md.Images) > 0 {
		return md.Images[0].Image, nil
	}
	return md.Stack.RunImage.Image, nil
}
