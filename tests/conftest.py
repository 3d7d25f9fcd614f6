"""Shared test set-up: no network, and litellm never fetches its price map."""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
