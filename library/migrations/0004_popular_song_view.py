from django.db import migrations

# Plays of the last 30 days, public ones only (private-session plays stay out of popularity).
# A skipped play is not a play here: it counts toward no total and no average.
CREATE = """
CREATE MATERIALIZED VIEW library_popular_song AS
SELECT p.song_id,
       count(*)::integer AS play_count,
       count(DISTINCT p.user_id)::integer AS unique_listeners,
       avg(p.play_duration)::double precision AS avg_play_duration
FROM library_play p
WHERE p.is_private = false
  AND p.skipped = false
  AND p.played_at >= now() - interval '30 days'
GROUP BY p.song_id
WITH DATA;
-- Unique, so that REFRESH MATERIALIZED VIEW CONCURRENTLY can run without blocking readers.
CREATE UNIQUE INDEX library_popular_song_pk ON library_popular_song (song_id);
CREATE INDEX library_popular_song_rank ON library_popular_song (play_count DESC, unique_listeners DESC, song_id);
"""
DROP = "DROP MATERIALIZED VIEW IF EXISTS library_popular_song;"


class Migration(migrations.Migration):
    dependencies = [("library", "0003_listening")]
    operations = [migrations.RunSQL(CREATE, DROP)]
