"""Operations: is the service up, and can it reach its database (`routes.py`)."""
