-- Tenancy that holds by construction (issue #11, point 4). Row-level security checks the
-- organisation of the row written; it does not check what the row points at, who the caller
-- was before the statement, or who may call a security-definer function. Here the database
-- itself closes each, as a class rather than case by case:
--
-- 1. References between tenant rows are composite foreign keys,
--    (organization_id, <ref>_id) → (organization_id, id): a row can only point inside its own
--    organisation, whoever writes it (a tenant through the API, a trusted path handed a forged
--    id), and a referenced row cannot move to another organisation from under its references.
--    They are found in the catalog: every foreign key between two tables that both have an
--    organization_id column.
-- 2. Membership changes are judged on the caller's role as it was when the statement began
--    (an admin cannot promote themselves and then act as an owner); an after-statement check
--    keeps an owner in every organisation (several owners demoted at once are caught).
-- 3. No function in the schemas we own is executable by PUBLIC, anon or authenticated unless
--    granted here to the role that calls it, and functions created later start closed.

-- ---------------------------------------------------------------------------------------
-- 1. Composite foreign keys between tenant tables
-- ---------------------------------------------------------------------------------------
do $$
declare
  fk record;
  v_actions text;
  v_fixed bigint;
begin
  for fk in
    select c.conname, c.conrelid::regclass as tbl, c.confrelid::regclass as ref,
           (select r.relname from pg_class r where r.oid = c.confrelid) as ref_name,
           cardinality(c.conkey) as ncols, a.attname as col, af.attname as refcol, a.attnotnull as col_notnull,
           (select x.attnotnull from pg_attribute x where x.attrelid = c.conrelid and x.attname = 'organization_id') as org_notnull,
           c.confdeltype, c.confupdtype, c.condeferrable, c.condeferred
    from pg_constraint c
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    join pg_attribute af on af.attrelid = c.confrelid and af.attnum = c.confkey[1]
    where c.contype = 'f' and c.connamespace = 'public'::regnamespace
      and c.confrelid <> 'public.organizations'::regclass
      and exists (select 1 from pg_attribute x where x.attrelid = c.conrelid and x.attname = 'organization_id' and not x.attisdropped)
      and exists (select 1 from pg_attribute x where x.attrelid = c.confrelid and x.attname = 'organization_id' and not x.attisdropped)
      -- not already composite
      and not exists (select 1 from unnest(c.conkey) k join pg_attribute x on x.attrelid = c.conrelid and x.attnum = k
                      where x.attname = 'organization_id')
    order by c.conrelid::regclass::text, c.conname
  loop
    if fk.ncols <> 1 then
      raise exception '%: a multi-column reference between tenant tables without organization_id; make it composite by hand', fk.conname;
    end if;
    if not fk.org_notnull then
      -- MATCH SIMPLE skips the check when organization_id is NULL.
      raise exception '%: % references a tenant table but its organization_id may be NULL', fk.conname, fk.tbl;
    end if;
    if fk.confupdtype not in ('a', 'r') then
      raise exception '%: ON UPDATE % is not carried over by this migration', fk.conname, fk.confupdtype;
    end if;

    -- The referenced side: (organization_id, id) unique.
    if not exists (
      select 1 from pg_index i
      where i.indrelid = fk.ref and i.indisunique and i.indpred is null and i.indexprs is null
        and i.indnkeyatts = 2
        and (select array_agg(att.attname::text order by att.attname)
             from pg_attribute att where att.attrelid = i.indrelid and att.attnum = any (i.indkey::int2[]))
            = (select array_agg(x order by x) from unnest(array['organization_id', fk.refcol::text]) x)
    ) then
      execute format('alter table %s add constraint %I unique (organization_id, %I)',
                     fk.ref, left(fk.ref_name || '_organization_id_' || fk.refcol || '_key', 63), fk.refcol);
    end if;

    -- Rows that already point across organisations are broken by definition: a nullable
    -- reference is cleared, a row that cannot exist without its reference is removed.
    if fk.col_notnull then
      execute format('delete from %s t using %s r where r.%I = t.%I and r.organization_id <> t.organization_id',
                     fk.tbl, fk.ref, fk.refcol, fk.col);
    else
      execute format('update %s t set %I = null from %s r where r.%I = t.%I and r.organization_id <> t.organization_id',
                     fk.tbl, fk.col, fk.ref, fk.refcol, fk.col);
    end if;
    get diagnostics v_fixed = row_count;
    if v_fixed > 0 then
      raise notice '%: % rows pointed at another organisation''s %, repaired', fk.conname, v_fixed, fk.ref;
    end if;

    -- Same name, same actions; ON DELETE SET NULL/DEFAULT touch only the reference column
    -- (PG15's column list), never organization_id.
    v_actions := case fk.confdeltype
      when 'c' then ' on delete cascade'
      when 'n' then format(' on delete set null (%I)', fk.col)
      when 'd' then format(' on delete set default (%I)', fk.col)
      when 'r' then ' on delete restrict'
      else '' end
      || case fk.confupdtype when 'r' then ' on update restrict' else '' end
      || case when fk.condeferrable then ' deferrable' || case when fk.condeferred then ' initially deferred' else '' end
              else '' end;
    execute format('alter table %s drop constraint %I, add constraint %I foreign key (organization_id, %I) '
                   'references %s (organization_id, %I)%s',
                   fk.tbl, fk.conname, fk.conname, fk.col, fk.ref, fk.refcol, v_actions);
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------
-- 2. Memberships: who may is judged before the statement; an owner is kept after it
-- ---------------------------------------------------------------------------------------
-- BEFORE each row, on the memberships as they were when the statement began: the function is
-- STABLE, so it sees none of the rows its own statement changes (whatever order Postgres visits
-- them in, an admin promoting themselves is still an admin for every row of that statement).
-- Only owners grant, change or remove the owner role (an owner may step down); the creator of a
-- new organisation becomes its owner (create_organization: the first membership, the caller's
-- own, of an organisation the caller created). Trusted paths (service_role, migrations: no user
-- in the claims) are not asked; the owner rule below still holds for them.
create function private.authorize_membership_change() returns trigger
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_caller uuid := auth.uid();
  v_changed boolean := tg_op <> 'UPDATE'
    or (new.organization_id, new.user_id, new.role) is distinct from (old.organization_id, old.user_id, old.role);
begin
  if v_caller is null or not v_changed then
    return case when tg_op = 'DELETE' then old else new end;
  end if;
  if (tg_op <> 'INSERT' and old.role = 'owner'
      and not exists (select 1 from public.memberships m
                      where m.organization_id = old.organization_id and m.user_id = v_caller and m.role = 'owner'))
     or
     (tg_op <> 'DELETE' and new.role = 'owner'
      and not exists (select 1 from public.memberships m
                      where m.organization_id = new.organization_id and m.user_id = v_caller and m.role = 'owner')
      and not (tg_op = 'INSERT' and new.user_id = v_caller
               and exists (select 1 from public.organizations o where o.id = new.organization_id and o.created_by = v_caller)
               and not exists (select 1 from public.memberships m where m.organization_id = new.organization_id)))
  then
    raise exception 'only an owner may grant, change or remove the owner role' using errcode = '42501';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

-- AFTER each statement, on its result: every organisation that lost an owner row still has an
-- owner (unless the organisation or that user is itself being deleted, which cascades here).
create function private.memberships_keep_an_owner() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if exists (
    select 1 from old_rows o
    where o.role = 'owner'
      and exists (select 1 from public.organizations g where g.id = o.organization_id)
      and exists (select 1 from auth.users u where u.id = o.user_id)
      and not exists (select 1 from public.memberships m where m.organization_id = o.organization_id and m.role = 'owner')
  ) then
    raise exception 'an organisation must keep at least one owner: make another member owner first'
      using errcode = '23514';
  end if;
  return null;
end
$$;

drop trigger memberships_guard on public.memberships;
drop function private.guard_memberships();

create trigger memberships_authorize before insert or update or delete on public.memberships
for each row execute function private.authorize_membership_change();
-- (transition tables need one trigger per event)
create trigger memberships_keep_an_owner_update after update on public.memberships
referencing old table as old_rows for each statement execute function private.memberships_keep_an_owner();
create trigger memberships_keep_an_owner_delete after delete on public.memberships
referencing old table as old_rows for each statement execute function private.memberships_keep_an_owner();

-- ---------------------------------------------------------------------------------------
-- 3. Functions: closed to everyone, then opened to exactly the roles that call them
-- ---------------------------------------------------------------------------------------
-- Postgres grants EXECUTE to PUBLIC on every new function, and the Supabase defaults grant the
-- API roles everything created in public: a security-definer function was callable by anon
-- (private.experiment_bump(<another organisation>, …) rewrote its A/B rollup). Trigger
-- functions need no grant (firing a trigger checks no EXECUTE privilege), nor do functions
-- called only from other security-definer functions (they run as the owner).
do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private')
      and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  loop
    execute format('revoke execute on function %s from public, anon, authenticated, service_role', f);
  end loop;
end
$$;

-- Row-level security policies call these as the signed-in user (no policy is for anon).
grant execute on function private.user_org_ids() to authenticated;
grant execute on function private.user_admin_org_ids() to authenticated;
grant execute on function private.user_owner_org_ids() to authenticated;
-- The API's organisation functions check the caller themselves (service_role: any organisation).
grant execute on function public.create_organization(text) to authenticated, service_role;
grant execute on function public.organization_members(uuid) to authenticated, service_role;
grant execute on function public.add_organization_member(uuid, text, public.member_role) to authenticated, service_role;
-- private.rebuild_usage_daily and private.rebuild_experiment_daily: the tables' owner only
-- (bulk loads, switchboard.demo). private.experiment_bump, experiment_call, experiment_usage:
-- called from the rollup triggers' security-definer functions only.

-- anon reaches nothing in private (its policies are for authenticated).
revoke usage on schema private from anon;

-- Functions created from now on (by the migrations' role) start closed: no EXECUTE for PUBLIC
-- anywhere (Postgres' built-in default can only be revoked globally, not per schema), and not
-- for the API roles in public (Supabase's per-schema default grant).
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;
