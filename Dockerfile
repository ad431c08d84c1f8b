FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir -e . || true
COPY . .
RUN pip install --no-cache-dir -e . \
 && SECRET_KEY=build DATABASE_URL=sqlite:////tmp/build.db CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput
RUN useradd --create-home hub && mkdir -p /app/var && chown -R hub /app/var
USER hub
EXPOSE 8000
CMD ["gunicorn", "integration_hub.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
