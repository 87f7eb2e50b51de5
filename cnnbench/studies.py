"""What the source studies did that both the models (which need torch) and the reports (which
must not) state: one copy, torch-free, below both."""

# Study 000 timed each net with time.time() around its whole training loop; our epoch time is
# narrower. The seed recipe carries this note (``cnnbench models show seed000_net0``) and the
# report shows it beside every time verdict of study 000, so a ratio of ours is not read as a
# rerun of its seconds.
TIMING_NOTE_000 = (
    "timing scope differs: the study's time per net (time.time() around its 10 epochs) "
    "includes validate() after every epoch and the DataLoader's per-batch ToTensor/Normalize; "
    "our epoch time is training steps only, on data already in memory, evaluation excluded")
