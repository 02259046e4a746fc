package main

import (
	"io"

	"github.com/imagelock/imagelock/workflow"
)

// SARIF 2.1.0, the subset code scanning reads: https://docs.oasis-open.org/sarif/sarif/v2.1.0/
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	projectURL   = "https://github.com/imagelock/imagelock"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string        `json:"id"`
	ShortDescription     sarifText     `json:"shortDescription"`
	Help                 sarifText     `json:"help"`
	DefaultConfiguration sarifDefaults `json:"defaultConfiguration"`
}

type sarifDefaults struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// sarifRules describes every finding code, in a fixed order so that rule
// indexes are stable from run to run.
var sarifRules = []sarifRule{
	{ID: workflow.CodeNotLocked, ShortDescription: sarifText{"Image reference not in the lock"},
		Help: sarifText{"A source references an image the lock does not record. Run 'imagelock lock' to add it."}},
	{ID: workflow.CodePinMismatch, ShortDescription: sarifText{"Pinned digest differs from the lock"},
		Help: sarifText{"A source pins a digest other than the locked one. Run 'imagelock pin' to write the locked digest, or 'imagelock lock' if the source is right."}},
	{ID: workflow.CodeUnused, ShortDescription: sarifText{"Lock entry no source uses"},
		Help: sarifText{"The lock records an image no source references any more. Run 'imagelock lock' to drop it."}},
	{ID: workflow.CodeMoved, ShortDescription: sarifText{"Tag moved upstream"},
		Help: sarifText{"The registry's tag points at another digest than the lock's, and a source pulls by the tag, so builds change. Run 'imagelock update --image NAME' to accept it."}},
	{ID: workflow.CodeVanished, ShortDescription: sarifText{"Tag or digest gone from the registry"},
		Help: sarifText{"The registry no longer has the locked tag or digest. Change the reference, then run 'imagelock lock'."}},
	{ID: workflow.CodePlatformGone, ShortDescription: sarifText{"Locked platform gone from the registry"},
		Help: sarifText{"The tag moved, and a platform manifest of the locked index is no longer in the registry, so builds pinned to the locked digest fail on that platform. Run 'imagelock update --image NAME' to lock and pin what the tag points at now."}},
	{ID: workflow.CodeUpdate, ShortDescription: sarifText{"Update available"},
		Help: sarifText{"The tag moved, but every source pins the locked digest, so builds do not change. Run 'imagelock update --image NAME' to take the update."}, DefaultConfiguration: sarifDefaults{"warning"}},
	{ID: workflow.CodeRepublished, ShortDescription: sarifText{"Tag moved to a re-published index"},
		Help: sarifText{"The tag moved to a new index whose platform manifests are the locked ones (re-published, with new attestations say), so builds do not change. Run 'imagelock update --image NAME' to record the new index."}, DefaultConfiguration: sarifDefaults{"warning"}},
	{ID: sarifUnchecked, ShortDescription: sarifText{"Line verify could not check"},
		Help: sarifText{"Text that is no image reference, a variable without a value, or a file skipped: verify cannot vouch for it. Fix it, or exclude the file in .imagelock.toml. Fails with --strict."}, DefaultConfiguration: sarifDefaults{"warning"}},
	{ID: workflow.CodeDrift, ShortDescription: sarifText{"A pod runs a digest the lock does not record"},
		Help: sarifText{"A container runs other bits than the lock records for its image: a tag re-pushed and pulled again. Pin the image with 'imagelock pin' and roll the pods out again, or run 'imagelock update --image NAME' if what runs is right."}},
	{ID: workflow.CodeSplit, ShortDescription: sarifText{"Pods of one owner run different images"},
		Help: sarifText{"Pods of one ReplicaSet, StatefulSet, DaemonSet or Job run different digests of one container's image, though their specs are the same. Pin the image with 'imagelock pin' so a restart cannot pull other bits, then roll the pods out again."}},
	{ID: workflow.CodeUnlocked, ShortDescription: sarifText{"A pod runs an image the lock lacks"},
		Help: sarifText{"A container runs an image no lock entry covers. Run 'imagelock lock' where the manifests that deploy it live, or add it to ignore in .imagelock.toml. Fails with --strict."}, DefaultConfiguration: sarifDefaults{"warning"}},
	{ID: workflow.CodeUnknown, ShortDescription: sarifText{"What a pod runs cannot be told"},
		Help: sarifText{"The runtime reports an image ID with no registry digest (an image built or loaded on the node), or the container is not running yet. Fails with --strict."}, DefaultConfiguration: sarifDefaults{"warning"}},
	{ID: workflow.CodeUnsigned, ShortDescription: sarifText{"Lock entry a [[trust]] rule covers records no signer"},
		Help: sarifText{"A [[trust]] rule of .imagelock.toml covers the image, but the lock records no signer for it. Run 'imagelock lock' to verify and record its signature."}},
	{ID: workflow.CodeSigner, ShortDescription: sarifText{"Lock entry records a signer its [[trust]] rule does not accept"},
		Help: sarifText{"The signer the lock records is not the key or identity the [[trust]] rule wants. Run 'imagelock lock' to verify and record the signature the rule wants."}},
	{ID: workflow.CodeSignatureGone, ShortDescription: sarifText{"Recorded signature gone or no longer valid"},
		Help: sarifText{"The registry no longer has the signature the lock records, or it no longer verifies (verify --signatures). Once the image is signed again, run 'imagelock update --image NAME' to record the new signature."}},
}

// sarifUnchecked is the rule of the scan's warnings.
const sarifUnchecked = "unchecked"

// writeSARIF writes the findings as a SARIF 2.1.0 log for code scanning:
// failures at level error, notices and the scan's warnings at level
// warning (error with strict).
func writeSARIF(w io.Writer, c checked, lockfile string, strict bool, rel func(string) string) error {
	rules := make([]sarifRule, len(sarifRules))
	copy(rules, sarifRules)
	index := map[string]int{}
	for i := range rules {
		if rules[i].DefaultConfiguration.Level == "" {
			rules[i].DefaultConfiguration.Level = "error"
		}
		index[rules[i].ID] = i
	}
	results := []sarifResult{}
	for _, f := range c.findings {
		i, ok := index[f.Code]
		if !ok {
			i = len(rules)
			index[f.Code] = i
			rules = append(rules, sarifRule{ID: f.Code, ShortDescription: sarifText{f.Msg}, Help: sarifText{f.Fix}, DefaultConfiguration: sarifDefaults{"error"}})
		}
		level := "warning"
		if f.Fails(strict) {
			level = "error"
		}
		// Code scanning wants a line: a finding about a whole file is
		// shown at its first.
		loc := sarifPhysical{ArtifactLocation: sarifArtifact{URI: rel(f.File)}, Region: sarifRegion{StartLine: max(f.Line, 1), StartColumn: f.Col}}
		results = append(results, sarifResult{RuleID: f.Code, RuleIndex: i, Level: level,
			Message: sarifText{findingMessage(f, lockfile)}, Locations: []sarifLocation{{PhysicalLocation: loc}}})
	}
	for _, x := range c.warnings {
		level := "warning"
		if strict {
			level = "error"
		}
		loc := sarifPhysical{ArtifactLocation: sarifArtifact{URI: rel(x.File)}, Region: sarifRegion{StartLine: max(x.Line, 1)}}
		results = append(results, sarifResult{RuleID: sarifUnchecked, RuleIndex: index[sarifUnchecked], Level: level,
			Message: sarifText{x.Msg}, Locations: []sarifLocation{{PhysicalLocation: loc}}})
	}
	return writeJSON(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{
		Tool:    sarifTool{Driver: sarifDriver{Name: "imagelock", InformationURI: projectURL, Rules: rules}},
		Results: results,
	}}})
}
