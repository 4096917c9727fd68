-- Invitations: an admin (or owner) invites an e-mail address with a role; whoever signs in with
-- that address and presents the link's token joins the organisation with that role, once.
--
-- Invariants:
--   * the token is never stored: the link carries `<invitation id hex>.<secret>`, the table
--     keeps sha256(secret) only; the secret is 32 random bytes (256 bits), compared in constant
--     time (the row is found by its id, not by the secret);
--   * single use, expiring, revocable: accepted_at / revoked_at are set once, expires_at is fixed
--     at creation; a row is pending while neither is set and expires_at is in the future;
--   * the memberships' role rules: admins and owners invite, only owners invite owners (and only
--     owners revoke an owner's invitation); the rules are checked again when the invitation is
--     accepted (the inviter must still be allowed to grant the role);
--   * members of the organisation read its invitations (never the hash: column privileges);
--   * accepting is the one security definer function, `public.accept_invitation(text)`, granted
--     to `authenticated` only: it locks the row (`for update`), checks the secret, the state,
--     the expiry and that the caller's own confirmed e-mail is the invited one, then marks the
--     row used and inserts the membership in the same transaction, so two accepts give one.

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  email text not null
    check (email = lower(btrim(email)) and length(email) between 3 and 255 and email ~ '^[^@\s]+@[^@\s]+$'),
  role public.member_role not null default 'member',
  token_hash bytea not null check (length(token_hash) = 32),
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  revoked_by uuid references auth.users (id) on delete set null,
  check (expires_at > created_at),
  check (accepted_at is null or revoked_at is null),
  check (accepted_by is null or accepted_at is not null),
  check (revoked_by is null or revoked_at is not null)
);
create index invitations_org_idx on public.invitations (organization_id, created_at desc);
-- One pending invitation per address and organisation (a new one replaces the old).
create unique index invitations_pending_key on public.invitations (organization_id, email)
  where accepted_at is null and revoked_at is null;

alter table public.invitations enable row level security;

-- Column privileges: the API roles never read the hash, and change nothing but the revocation.
revoke all on public.invitations from public, anon, authenticated;
grant select (id, organization_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by,
              revoked_at, revoked_by) on public.invitations to authenticated;
grant insert (id, organization_id, email, role, token_hash, invited_by, expires_at) on public.invitations to authenticated;
grant update (revoked_at, revoked_by) on public.invitations to authenticated;
grant all on public.invitations to service_role;

create policy invitation_read on public.invitations for select to authenticated
  using (organization_id in (select private.user_org_ids()));

create policy invitation_admin_insert on public.invitations for insert to authenticated
  with check (
    organization_id in (select private.user_admin_org_ids())
    and (role <> 'owner' or organization_id in (select private.user_owner_org_ids()))
    and invited_by = auth.uid()
    and expires_at > now() and expires_at <= now() + interval '30 days'
  );

-- Revoking: a pending invitation, by an admin or owner (an owner's invitation by an owner),
-- recorded as theirs. A revoked or used invitation cannot be changed again.
create policy invitation_admin_revoke on public.invitations for update to authenticated
  using (
    accepted_at is null and revoked_at is null
    and organization_id in (select private.user_admin_org_ids())
    and (role <> 'owner' or organization_id in (select private.user_owner_org_ids()))
  )
  with check (revoked_at is not null and revoked_by = auth.uid());

-- Accepting. Errors carry a HINT naming the case (invalid, revoked, used, expired,
-- wrong_account, inviter, already_member) for the core to map; messages are for people.
create function public.accept_invitation(p_token text)
returns table (organization_id uuid, organization_name text, role public.member_role)
language plpgsql security definer set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_email text;
  v_inv public.invitations%rowtype;
  v_given bytea;
  v_diff integer := 0;
  v_claims text;
  v_sub text;
begin
  if v_user is null then
    raise exception 'sign in to accept this invitation' using errcode = '42501', hint = 'signed_out';
  end if;
  if p_token is null or p_token !~ '^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$' then
    raise exception 'this invitation link is not valid: check that it was copied whole'
      using errcode = 'P0001', hint = 'invalid';
  end if;
  v_given := sha256(convert_to(split_part(p_token, '.', 2), 'UTF8'));
  select i.* into v_inv from public.invitations i where i.id = split_part(p_token, '.', 1)::uuid for update;
  if found then
    -- Constant time: every byte is compared, whatever the first difference.
    for k in 0..31 loop
      v_diff := v_diff | (get_byte(v_inv.token_hash, k) # get_byte(v_given, k));
    end loop;
  end if;
  if not found or v_diff <> 0 then
    raise exception 'this invitation link is not valid: check that it was copied whole'
      using errcode = 'P0001', hint = 'invalid';
  end if;
  if v_inv.revoked_at is not null then
    raise exception 'this invitation was revoked: ask for a new one' using errcode = 'P0001', hint = 'revoked';
  end if;
  if v_inv.accepted_at is not null then
    raise exception 'this invitation has already been used' using errcode = 'P0001', hint = 'used';
  end if;
  if v_inv.expires_at <= now() then
    raise exception 'this invitation expired on %: ask for a new one',
      to_char(v_inv.expires_at at time zone 'utc', 'YYYY-MM-DD HH24:MI "UTC"')
      using errcode = 'P0001', hint = 'expired';
  end if;
  select u.email::text into v_email from auth.users u
  where u.id = v_user and u.deleted_at is null and u.email_confirmed_at is not null;
  if v_email is null or lower(btrim(v_email)) <> v_inv.email then
    raise exception 'This invitation is for % — sign in with that address', v_inv.email
      using errcode = 'P0001', hint = 'wrong_account';
  end if;
  -- The grant must still be the inviter's to give.
  if not exists (select 1 from public.memberships m
                 where m.organization_id = v_inv.organization_id and m.user_id = v_inv.invited_by
                   and (m.role = 'owner' or (m.role = 'admin' and v_inv.role <> 'owner'))) then
    raise exception 'this invitation is no longer valid: its sender may no longer invite; ask for a new one'
      using errcode = 'P0001', hint = 'inviter';
  end if;
  if exists (select 1 from public.memberships m where m.organization_id = v_inv.organization_id and m.user_id = v_user) then
    raise exception 'you are already a member of this organisation' using errcode = 'P0001', hint = 'already_member';
  end if;

  update public.invitations i set accepted_at = now(), accepted_by = v_user where i.id = v_inv.id;
  -- The membership trigger lets only owners grant ownership; here the grant is the owner's who
  -- invited (checked just above), so the insert runs as a trusted path (no caller), and the
  -- caller's claims are put back straight after.
  v_claims := current_setting('request.jwt.claims', true);
  v_sub := current_setting('request.jwt.claim.sub', true);
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
  perform set_config('request.jwt.claim.sub', '', true);
  insert into public.memberships (organization_id, user_id, role) values (v_inv.organization_id, v_user, v_inv.role);
  perform set_config('request.jwt.claims', coalesce(v_claims, ''), true);
  perform set_config('request.jwt.claim.sub', coalesce(v_sub, ''), true);

  return query select o.id, o.name, v_inv.role from public.organizations o where o.id = v_inv.organization_id;
end
$$;
revoke execute on function public.accept_invitation(text) from public, anon;
grant execute on function public.accept_invitation(text) to authenticated;
