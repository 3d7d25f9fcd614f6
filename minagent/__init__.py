"""minagent: a small, readable code-agent library, the reference for the course.

Importing the package is cheap: the heavy dependencies (litellm, llama_cpp)
are imported only when a model that needs them is built.
"""

__version__ = "0.1.0"
