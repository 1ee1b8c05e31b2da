"""Train an image GAN from the browser: a background job, a page that polls it.

How the pieces talk::

    Start ─► page.start() ─► job.start_job() ─► TrainingJob (a BackgroundJob) ── worker thread:
                                                     │                       GANTrainer.run()
                                                     │                           │ Step / Samples /
                                                     ▼                           ▼ Finished
    page ◄── page.live_view() ◄── job.poll() ◄── history, latest grid, ◄── callback (also: log.jsonl,
    (a gr.Timer or a Streamlit fragment, ~1-2/s)  status                   sample PNGs, quality, saves)
    Stop ──► job.request_stop() sets a threading.Event; the engine checks it between steps.

Rules this package keeps:

- **One job per machine** (``job.TRAINING_SLOT``): training uses the whole CPU/GPU. A second
  Start gets :class:`~explorer.jobs.JobBusyError` saying whose job runs and how far it is.
- **No thread left behind.** A page polls (``job.poll()`` touches the job); when nobody has
  polled for ``orphan_timeout`` seconds the worker stops itself, keeping the checkpoint.
  A streaming caller uses ``job.follow()``: closing it stops and joins.
- **Resume continues the run.** Stop writes the run's checkpoint; Resume rebuilds the trainer
  from it (``GANTrainer.resume``) and reloads the curves from ``log.jsonl``.
- **Options are declared once** (:mod:`~explorer.live_training.form`): the page's widgets come
  from ``TrainConfig`` and the family configs; only ``live_trainable`` families are offered.
- **The Train page is written once** (:mod:`~explorer.live_training.page`): its rules and words;
  each edition (Gradio, Streamlit) keeps only its layout and wiring.
- **Training is off on a hosted Space** (``SPACE_ID`` set) unless ``GAN_EXPLORER_ENABLE_TRAINING=1``.
- **Only its owner stops or exports a job**: ``start_job(..., owner_id=session)`` and
  :meth:`~explorer.live_training.job.TrainingJob.owned_by`; a hosted page trains on built-in
  data or an upload (:mod:`~explorer.live_training.uploads`), never on a typed server path.

Modules: ``form`` (what to train), ``job`` (the run), ``page`` (the Train page's logic),
``quality`` (classifier figures), ``export`` (checkpoint, GIF), ``places`` (folders, device),
``uploads`` (a visitor's pictures). Import a name from the module that defines it. Nothing here
imports a front end.
"""
