// Package state keeps what a scan needs to survive a crash, a full disk or
// an interrupt, and to be resumed with every target probed and every hit
// written (and, in a pipeline, grabbed) exactly once.
//
// A State is written atomically (a temporary file in the same directory,
// fsynced, renamed over the old one, the directory fsynced), so that the
// previous state survives any failure of the write. It records:
//
//   - the scan's position in its permutation: each sender's position as it
//     was a lag ago (the cooldown), so that every target before it has had
//     the time to answer;
//   - the hits found but not yet written to the hit list (held), and, in a
//     pipeline, the hits written but not yet grabbed (pending);
//   - for each output file, its size at the moment of those positions (its
//     mark): every hit of a target after the positions is written, if at
//     all, after the mark.
//
// Resuming probes again the targets between the lagged positions and the
// place the scan really reached, and reads each output back from its mark:
// what is there is not written or grabbed again. Outputs are flushed and
// fsynced before a State that relies on them is written. See Checkpointer.
package state
