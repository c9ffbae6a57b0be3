# One image for every VeaHome process (web, worker, beat, mqtt listener, hub simulator).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN SECRET_KEY=build python manage.py collectstatic --noinput >/dev/null

RUN useradd --system --uid 1000 veahome && chown -R veahome /app
USER veahome

EXPOSE 8000
CMD ["python", "-m", "veahome.serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
