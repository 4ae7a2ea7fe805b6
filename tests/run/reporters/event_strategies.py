"""Hypothesis strategies for run events with arbitrary field values: text with line
breaks, `::`, `##[`, `%`, backticks and any other character."""

from __future__ import annotations

from hypothesis import strategies as st

from buildorch.run import events
from buildorch.run.event_schema import FINISH_STATES
from buildorch.run.failures import Failure

# what could break out of a JSON line or a workflow command, mixed with any character
TRICKY = ("::", "##[", "%", "\n", "\r", "\r\n", "\u2028", "\x85", ",", ":", "]", "`", "|",
          "::set-output name=x::1", "::stop-commands::", "::endgroup::", "%0A", " ")
texts = st.lists(st.sampled_from(TRICKY) | st.text(max_size=6), max_size=6).map("".join)
names = texts.filter(bool)
seconds = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
maybe_text = st.none() | texts
tuples = st.lists(texts, max_size=4).map(tuple)

failures = st.builds(Failure, message=texts, dockerfile=maybe_text,
                     line=st.none() | st.integers(1, 10**6), stage=maybe_text, step=maybe_text,
                     tail=tuples, transient=st.booleans())

image_finished = st.builds(
    events.ImageFinished, image=names, state=st.sampled_from(FINISH_STATES),
    duration=st.none() | seconds, digest=maybe_text, cached_steps=st.integers(0, 99),
    total_steps=st.integers(0, 99), reason=maybe_text, failure=st.none() | failures,
    log=maybe_text)

any_event = st.one_of(
    st.builds(events.RunStarted, run_id=texts, pipeline=texts, backend=texts, images=tuples,
              jobs=st.integers(1, 64), estimate=st.none() | seconds,
              durations=st.dictionaries(texts, seconds, max_size=3)),
    st.builds(events.ImageQueued, image=names, waiting_for=tuples),
    st.builds(events.ImageStarted, image=names, attempt=st.integers(1, 9)),
    st.builds(events.Step, image=names, vertex=st.integers(0, 999), name=texts),
    st.builds(events.StepCached, image=names, vertex=st.integers(0, 999), name=texts),
    st.builds(events.CacheMiss, image=names, source=texts),
    st.builds(events.LogLine, image=names, line=texts),
    st.builds(events.Note, text=texts, image=st.none() | names,
              level=st.sampled_from(("info", "warning"))),
    st.builds(events.Published, image=names, tag=texts),
    image_finished,
    st.builds(events.RunFinished, run_id=texts,
              outcome=st.sampled_from(("succeeded", "failed", "interrupted")),
              duration=seconds, counts=st.dictionaries(texts, st.integers(0, 999), max_size=3),
              record=texts, summary=texts),
)
