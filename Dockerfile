FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_VAR_DIR=/app/var
WORKDIR /app
# The dependencies first (pyproject.toml names no package to build), so a code change
# reuses this layer; a failed install fails the build.
COPY pyproject.toml ./
RUN pip install --no-cache-dir -e .
COPY . .
RUN SECRET_KEY=build DATABASE_URL=sqlite:////tmp/build.db CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput
# var/media is compose's evidence volume: a new volume takes this folder's owner.
RUN useradd --create-home hub && mkdir -p /app/var/media && chown -R hub /app/var
USER hub
EXPOSE 8000
# Workers and timeout: gunicorn.conf.py (two workers a core; WEB_CONCURRENCY sets another count).
CMD ["gunicorn", "integration_hub.wsgi", "--bind", "0.0.0.0:8000"]
