"""Tests of harness/cassettes: format, index, scrubbing and scanning, replay, recording, VCR and HAR import and
export, the starter set, and the property tests over every shipped and imported cassette."""
