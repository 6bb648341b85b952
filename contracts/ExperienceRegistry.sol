// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ExperienceRegistry: which experience batches a DSO network accepts, governed by its members.
/// @notice
/// Batches. Only members submit (no bond): a non-member's spam then costs
/// nobody, a member who spams can be voted out, and the contract stays small.
/// A batch is keyed by (submitter, Merkle root), so a member who copies
/// another's root from the mempool registers a batch of its own and never
/// blocks the honest one. The submission counts as the submitter's yes vote.
///
/// Decisions. Every batch and every proposal records, when it is created, a
/// membership snapshot (the membership epoch and the member count) and the
/// parameters in force. Only the members of that snapshot vote on it, once
/// each, even if they are removed before they vote; members added later do
/// not. Membership or parameter changes during a vote therefore change
/// nothing about it, and `yes + no <= electorate` always holds.
/// A decision is taken:
///  - early, as soon as the snapshot makes the outcome certain: accepted once
///    the quorum has voted and the yes votes reach the approval ratio even if
///    every remaining snapshot member votes no; rejected once the approval
///    ratio cannot be reached even if every remaining member votes yes;
///  - otherwise by anyone calling finalize after the deadline (chain time):
///    accepted if at least `quorum` snapshot members voted and
///    yes * 10000 >= approvalBps * (yes + no); otherwise rejected (a proposal
///    without a quorum is expired).
/// With one member a submission is accepted at once; with two, the other
/// member's vote decides, and silence lets the submitter's yes carry at the
/// deadline when the quorum ratio is at most 1/2.
///
/// Parameters, in basis points (10000 = 100%), checked at deploy and on every
/// change: quorumBps in [1, 10000] is the share of the snapshot that must
/// vote, rounded up (so at least one and at most all of its members);
/// approvalBps in [5001, 10000] is the share of cast votes that must approve
/// (a strict majority at least: 6666 accepts 2 of 3); votingPeriod in
/// [60 s, 365 days].
///
/// Governance. Adding or removing a member and changing a parameter are
/// proposals that members vote on under the same rule; the proposal counts as
/// its proposer's yes vote. Every state change has an event (created, voted,
/// accepted, rejected, expired). There is at most one open proposal per
/// member account and per parameter, and a proposal that would change nothing
/// is refused, so an accepted proposal always changes something. A removal
/// can never leave the registry without a member: a removal is proposed only
/// while members - open removals - 1 >= 1, so every open removal can still be
/// carried out (Gnosis Safe's owners - 1 >= threshold; with ratio quorums one
/// member can always decide).
///
/// Owner. The owner only bootstraps: it adds the initial members (in pages,
/// so 1,000 members fit under a block's gas) until it seals the bootstrap, and
/// it can transfer or renounce the role. Members should treat a registry whose
/// bootstrap is not sealed as the owner's.
///
/// Endpoints. Each member may announce where its node listens (libp2p
/// multiaddrs, at most MAX_ENDPOINT_BYTES), so a node that knows only the
/// chain and this address finds the others. The contract stores the text and
/// checks nothing but its length: readers treat it as untrusted. A removed
/// member's endpoint is cleared; paged reads list current members only.
///
/// Safety. The contract makes no external calls and holds no ether, so there
/// is nothing to re-enter; all arithmetic is checked (no unchecked blocks) and
/// narrowing casts are checked; paged reads clamp their range and return at
/// most MAX_PAGE entries.
contract ExperienceRegistry {
    enum Status {
        None,
        Pending,
        Accepted,
        Rejected,
        Expired
    }

    enum ProposalKind {
        AddMember,
        RemoveMember,
        SetQuorum,
        SetApproval,
        SetVotingPeriod
    }

    /// @notice The vote on one batch or proposal, with its snapshot.
    struct Tally {
        uint64 deadline;
        /// Membership epoch of the snapshot: the members at that epoch vote.
        uint32 epoch;
        /// Members in the snapshot.
        uint32 electorate;
        /// Votes needed: ceil(electorate * quorumBps / 10000) at creation.
        uint32 quorum;
        uint32 yes;
        uint32 no;
        uint16 approvalBps;
        Status status;
    }

    struct Batch {
        bytes32 root;
        string cid;
        address submitter;
        uint32 count;
        uint64 submittedAt;
        Tally tally;
    }

    struct Proposal {
        ProposalKind kind;
        /// The member to add or remove (zero for parameter changes).
        address account;
        /// The new parameter value (zero for membership changes).
        uint64 value;
        address proposer;
        uint64 createdAt;
        Tally tally;
    }

    /// @dev A member's latest seat: 1-based position in the member list (0: not a member now) and the
    /// epochs it joined and left at (left is 0 while seated).
    struct Seat {
        uint32 position;
        uint32 joined;
        uint32 left;
    }

    struct Interval {
        uint32 joined;
        uint32 left;
    }

    uint16 public constant BPS = 10_000;
    uint16 public constant MIN_APPROVAL_BPS = 5_001;
    uint64 public constant MIN_VOTING_PERIOD = 60;
    uint64 public constant MAX_VOTING_PERIOD = 365 days;
    uint256 public constant MAX_CID_BYTES = 128;
    uint256 public constant MAX_PAGE = 500;
    uint256 public constant MAX_ENDPOINT_BYTES = 512;

    address public owner;
    bool public bootstrapSealed;
    uint16 public quorumBps;
    uint16 public approvalBps;
    /// @notice Incremented by every membership change; snapshots name an epoch.
    uint32 public membershipEpoch;
    uint64 public votingPeriod;
    /// @notice Open removal proposals (each must stay executable).
    uint32 public pendingRemovals;
    /// @notice The block this registry was deployed in: where event scans start.
    uint256 public immutable deployedAt;

    mapping(address => Seat) private seats;
    /// @dev Earlier seats of accounts removed and added again, oldest first.
    mapping(address => Interval[]) private earlierSeats;
    address[] private memberList;

    Batch[] private batches;
    mapping(address => mapping(bytes32 => uint256)) private batchOf; // submitter => root => id + 1
    mapping(uint256 => mapping(address => bool)) private votedOnBatch;
    uint256[] private accepted;

    Proposal[] private proposals;
    mapping(uint256 => mapping(address => bool)) private votedOnProposal;
    mapping(bytes32 => uint256) private openProposal; // key => id + 1

    mapping(address => string) private endpointOf;

    event BatchSubmitted(uint256 indexed id, bytes32 indexed root, address indexed submitter, string cid, uint32 count, uint64 deadline);
    event Voted(uint256 indexed id, address indexed member, bool approve);
    event BatchAccepted(uint256 indexed id, bytes32 indexed root);
    event BatchRejected(uint256 indexed id, bytes32 indexed root);
    event MemberAdded(address indexed account, uint32 epoch);
    event MemberRemoved(address indexed account, uint32 epoch);
    event ProposalCreated(
        uint256 indexed id,
        address indexed proposer,
        ProposalKind kind,
        address account,
        uint64 value,
        uint64 deadline
    );
    event ProposalVoted(uint256 indexed id, address indexed member, bool approve);
    event ProposalAccepted(uint256 indexed id);
    event ProposalRejected(uint256 indexed id);
    event ProposalExpired(uint256 indexed id);
    event ParametersSet(uint16 quorumBps, uint16 approvalBps, uint64 votingPeriod);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event BootstrapSealed(uint32 members);
    event EndpointSet(address indexed account, string endpoint);

    error NotOwner();
    error NotMember();
    /// @notice A member now, but not in the snapshot of this batch or proposal.
    error NotEligible(uint256 id);
    error AlreadyMember();
    error AlreadySubmitted(bytes32 root);
    error EmptyBatch();
    error CidTooLong();
    error UnknownBatch(uint256 id);
    error UnknownProposal(uint256 id);
    error AlreadyVoted(uint256 id);
    error VotingClosed(uint256 id);
    error VotingOpen(uint256 id);
    error BadParameter();
    error NoChange();
    error ProposalOpen(uint256 id);
    error TooFewMembers();
    error BootstrapOver();
    error Overflow();
    error EndpointTooLong();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyMember() {
        if (seats[msg.sender].position == 0) revert NotMember();
        _;
    }

    /// @param initialMembers A first page of members (more with addMembers until sealBootstrap).
    constructor(uint16 quorumBps_, uint16 approvalBps_, uint64 votingPeriod_, address[] memory initialMembers) {
        if (!_validQuorum(quorumBps_) || !_validApproval(approvalBps_) || !_validPeriod(votingPeriod_)) revert BadParameter();
        deployedAt = block.number;
        owner = msg.sender;
        quorumBps = quorumBps_;
        approvalBps = approvalBps_;
        votingPeriod = votingPeriod_;
        emit OwnershipTransferred(address(0), msg.sender);
        emit ParametersSet(quorumBps_, approvalBps_, votingPeriod_);
        for (uint256 i = 0; i < initialMembers.length; i++) _addMember(initialMembers[i]);
    }

    // ---- owner: bootstrap only ----

    /// @notice Adds members before the bootstrap is sealed (pages of a few hundred fit a block).
    function addMembers(address[] calldata accounts) external onlyOwner {
        if (bootstrapSealed) revert BootstrapOver();
        for (uint256 i = 0; i < accounts.length; i++) {
            address a = accounts[i];
            if (a == address(0)) revert BadParameter();
            uint256 open = openProposal[_memberKey(a)];
            if (open != 0) revert ProposalOpen(open - 1);
            _addMember(a);
        }
    }

    /// @notice Ends the owner's power over membership for good.
    function sealBootstrap() external onlyOwner {
        if (bootstrapSealed) revert BootstrapOver();
        if (memberList.length == 0) revert TooFewMembers();
        bootstrapSealed = true;
        emit BootstrapSealed(_u32(memberList.length));
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert BadParameter();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function renounceOwnership() external onlyOwner {
        emit OwnershipTransferred(owner, address(0));
        owner = address(0);
    }

    // ---- batches ----

    /// @notice Registers a batch from a member; the submission is its yes vote.
    function submitBatch(bytes32 root, string calldata cid, uint32 count) external onlyMember returns (uint256 id) {
        if (count == 0 || bytes(cid).length == 0) revert EmptyBatch();
        if (bytes(cid).length > MAX_CID_BYTES) revert CidTooLong();
        if (batchOf[msg.sender][root] != 0) revert AlreadySubmitted(root);
        id = batches.length;
        Batch storage b = batches.push();
        b.root = root;
        b.cid = cid;
        b.submitter = msg.sender;
        b.count = count;
        b.submittedAt = _u64(block.timestamp);
        b.tally = _openTally();
        batchOf[msg.sender][root] = id + 1;
        emit BatchSubmitted(id, root, msg.sender, cid, count, b.tally.deadline);
        _settleBatch(id, b, _certain(b.tally));
    }

    function vote(uint256 id, bool approve) external {
        Batch storage b = _batch(id);
        Tally storage t = b.tally;
        _checkVoter(id, t);
        if (msg.sender == b.submitter || votedOnBatch[id][msg.sender]) revert AlreadyVoted(id);
        votedOnBatch[id][msg.sender] = true;
        _count(t, approve);
        emit Voted(id, msg.sender, approve);
        _settleBatch(id, b, _certain(t));
    }

    /// @notice Decides a batch after its deadline; anyone may call it.
    function finalize(uint256 id) external {
        Batch storage b = _batch(id);
        _checkClosed(id, b.tally);
        Status s = _atDeadline(b.tally);
        _settleBatch(id, b, s == Status.Accepted ? Status.Accepted : Status.Rejected);
    }

    function batchCount() external view returns (uint256) {
        return batches.length;
    }

    function getBatch(uint256 id) external view returns (Batch memory) {
        return _batch(id);
    }

    function batchIdOf(address submitter, bytes32 root) external view returns (bool found, uint256 id) {
        uint256 v = batchOf[submitter][root];
        return (v != 0, v == 0 ? 0 : v - 1);
    }

    function hasVoted(uint256 id, address account) external view returns (bool) {
        Batch storage b = _batch(id);
        return account == b.submitter || votedOnBatch[id][account];
    }

    /// @notice Whether `account` may vote on batch `id` in a block at the current time.
    function canVote(uint256 id, address account) external view returns (bool) {
        Batch storage b = _batch(id);
        return _open(b.tally) && account != b.submitter && !votedOnBatch[id][account] && _wasMember(account, b.tally.epoch);
    }

    function acceptedCount() external view returns (uint256) {
        return accepted.length;
    }

    /// @notice Accepted batches in order of acceptance: at most min(limit, MAX_PAGE) from `offset`.
    function acceptedBatches(uint256 offset, uint256 limit) external view returns (uint256[] memory ids, Batch[] memory page) {
        uint256 n = _pageLength(accepted.length, offset, limit);
        ids = new uint256[](n);
        page = new Batch[](n);
        for (uint256 i = 0; i < n; i++) {
            ids[i] = accepted[offset + i];
            page[i] = batches[ids[i]];
        }
    }

    // ---- proposals ----

    function proposeMember(address account, bool add) external onlyMember returns (uint256 id) {
        if (account == address(0)) revert BadParameter();
        bytes32 key = _memberKey(account);
        uint256 open = openProposal[key];
        if (open != 0) revert ProposalOpen(open - 1);
        if ((seats[account].position != 0) == add) revert NoChange();
        if (!add) {
            if (memberList.length <= uint256(pendingRemovals) + 1) revert TooFewMembers();
            pendingRemovals += 1;
        }
        id = _propose(key, add ? ProposalKind.AddMember : ProposalKind.RemoveMember, account, 0);
    }

    function proposeParameter(ProposalKind kind, uint64 value) external onlyMember returns (uint256 id) {
        if (kind == ProposalKind.SetQuorum) {
            if (!_validQuorum(value)) revert BadParameter();
        } else if (kind == ProposalKind.SetApproval) {
            if (!_validApproval(value)) revert BadParameter();
        } else if (kind == ProposalKind.SetVotingPeriod) {
            if (!_validPeriod(value)) revert BadParameter();
        } else {
            revert BadParameter();
        }
        bytes32 key = bytes32(uint256(kind));
        uint256 open = openProposal[key];
        if (open != 0) revert ProposalOpen(open - 1);
        if (value == _parameter(kind)) revert NoChange();
        id = _propose(key, kind, address(0), value);
    }

    function voteProposal(uint256 id, bool approve) external {
        Proposal storage p = _proposal(id);
        Tally storage t = p.tally;
        _checkVoter(id, t);
        if (msg.sender == p.proposer || votedOnProposal[id][msg.sender]) revert AlreadyVoted(id);
        votedOnProposal[id][msg.sender] = true;
        _count(t, approve);
        emit ProposalVoted(id, msg.sender, approve);
        _settleProposal(id, p, _certain(t));
    }

    /// @notice Decides a proposal after its deadline; anyone may call it.
    function finalizeProposal(uint256 id) external {
        Proposal storage p = _proposal(id);
        _checkClosed(id, p.tally);
        _settleProposal(id, p, _atDeadline(p.tally));
    }

    function proposalCount() external view returns (uint256) {
        return proposals.length;
    }

    function getProposal(uint256 id) external view returns (Proposal memory) {
        return _proposal(id);
    }

    function hasVotedOnProposal(uint256 id, address account) external view returns (bool) {
        Proposal storage p = _proposal(id);
        return account == p.proposer || votedOnProposal[id][account];
    }

    function canVoteProposal(uint256 id, address account) external view returns (bool) {
        Proposal storage p = _proposal(id);
        return _open(p.tally) && account != p.proposer && !votedOnProposal[id][account] && _wasMember(account, p.tally.epoch);
    }

    /// @notice The open proposal about `account` (membership kinds) or about a parameter (its kind; account ignored).
    function openProposalOf(ProposalKind kind, address account) external view returns (bool found, uint256 id) {
        uint256 v = openProposal[kind <= ProposalKind.RemoveMember ? _memberKey(account) : bytes32(uint256(kind))];
        return (v != 0, v == 0 ? 0 : v - 1);
    }

    // ---- membership reads ----

    function isMember(address account) external view returns (bool) {
        return seats[account].position != 0;
    }

    function memberCount() external view returns (uint256) {
        return memberList.length;
    }

    /// @notice Current members (in no particular order): at most min(limit, MAX_PAGE) from `offset`.
    function members(uint256 offset, uint256 limit) external view returns (address[] memory page) {
        uint256 n = _pageLength(memberList.length, offset, limit);
        page = new address[](n);
        for (uint256 i = 0; i < n; i++) page[i] = memberList[offset + i];
    }

    /// @notice Announces (or, with an empty string, withdraws) where this member's node listens.
    function setEndpoint(string calldata text) external onlyMember {
        if (bytes(text).length > MAX_ENDPOINT_BYTES) revert EndpointTooLong();
        endpointOf[msg.sender] = text;
        emit EndpointSet(msg.sender, text);
    }

    function endpoint(address account) external view returns (string memory) {
        return endpointOf[account];
    }

    /// @notice Current members and their endpoints (empty if none announced): at most min(limit, MAX_PAGE) from `offset`.
    function endpoints(uint256 offset, uint256 limit) external view returns (address[] memory accounts, string[] memory page) {
        uint256 n = _pageLength(memberList.length, offset, limit);
        accounts = new address[](n);
        page = new string[](n);
        for (uint256 i = 0; i < n; i++) {
            accounts[i] = memberList[offset + i];
            page[i] = endpointOf[accounts[i]];
        }
    }

    /// @notice Whether `account` was a member at membership epoch `epoch`.
    function wasMember(address account, uint32 epoch) external view returns (bool) {
        return _wasMember(account, epoch);
    }

    // ---- internals ----

    function _openTally() private view returns (Tally memory t) {
        uint256 n = memberList.length;
        t.deadline = _u64(block.timestamp + votingPeriod);
        t.epoch = membershipEpoch;
        t.electorate = _u32(n);
        t.quorum = _u32((n * quorumBps + BPS - 1) / BPS);
        t.yes = 1;
        t.approvalBps = approvalBps;
        t.status = Status.Pending;
    }

    function _checkVoter(uint256 id, Tally storage t) private view {
        if (!_open(t)) revert VotingClosed(id);
        if (!_wasMember(msg.sender, t.epoch)) {
            if (seats[msg.sender].position != 0) revert NotEligible(id);
            revert NotMember();
        }
    }

    function _checkClosed(uint256 id, Tally storage t) private view {
        if (t.status != Status.Pending) revert VotingClosed(id);
        if (block.timestamp <= t.deadline) revert VotingOpen(id);
    }

    function _open(Tally storage t) private view returns (bool) {
        return t.status == Status.Pending && block.timestamp <= t.deadline;
    }

    function _count(Tally storage t, bool approve) private {
        if (approve) t.yes += 1;
        else t.no += 1;
    }

    /// @dev The outcome if it no longer depends on the snapshot members who have not voted; else Pending.
    function _certain(Tally memory t) private pure returns (Status) {
        uint256 votes = uint256(t.yes) + t.no;
        uint256 remaining = uint256(t.electorate) - votes;
        if (votes >= t.quorum && uint256(t.yes) * BPS >= uint256(t.approvalBps) * t.electorate) return Status.Accepted;
        if ((uint256(t.yes) + remaining) * BPS < uint256(t.approvalBps) * t.electorate) return Status.Rejected;
        return Status.Pending;
    }

    function _atDeadline(Tally memory t) private pure returns (Status) {
        uint256 votes = uint256(t.yes) + t.no;
        if (votes < t.quorum) return Status.Expired;
        return uint256(t.yes) * BPS >= uint256(t.approvalBps) * votes ? Status.Accepted : Status.Rejected;
    }

    function _settleBatch(uint256 id, Batch storage b, Status s) private {
        if (s == Status.Pending) return;
        b.tally.status = s;
        if (s == Status.Accepted) {
            accepted.push(id);
            emit BatchAccepted(id, b.root);
        } else {
            emit BatchRejected(id, b.root);
        }
    }

    function _propose(bytes32 key, ProposalKind kind, address account, uint64 value) private returns (uint256 id) {
        id = proposals.length;
        Proposal storage p = proposals.push();
        p.kind = kind;
        p.account = account;
        p.value = value;
        p.proposer = msg.sender;
        p.createdAt = _u64(block.timestamp);
        p.tally = _openTally();
        openProposal[key] = id + 1;
        emit ProposalCreated(id, msg.sender, kind, account, value, p.tally.deadline);
        _settleProposal(id, p, _certain(p.tally));
    }

    function _settleProposal(uint256 id, Proposal storage p, Status s) private {
        if (s == Status.Pending) return;
        p.tally.status = s;
        ProposalKind kind = p.kind;
        delete openProposal[kind <= ProposalKind.RemoveMember ? _memberKey(p.account) : bytes32(uint256(kind))];
        if (kind == ProposalKind.RemoveMember) pendingRemovals -= 1;
        if (s == Status.Accepted) {
            if (kind == ProposalKind.AddMember) _addMember(p.account);
            else if (kind == ProposalKind.RemoveMember) _removeMember(p.account);
            else _setParameter(kind, p.value);
            emit ProposalAccepted(id);
        } else if (s == Status.Rejected) {
            emit ProposalRejected(id);
        } else {
            emit ProposalExpired(id);
        }
    }

    function _parameter(ProposalKind kind) private view returns (uint64) {
        if (kind == ProposalKind.SetQuorum) return quorumBps;
        if (kind == ProposalKind.SetApproval) return approvalBps;
        return votingPeriod;
    }

    function _setParameter(ProposalKind kind, uint64 value) private {
        // Bounds were checked when the proposal was made; they are constants.
        if (kind == ProposalKind.SetQuorum) quorumBps = uint16(value);
        else if (kind == ProposalKind.SetApproval) approvalBps = uint16(value);
        else votingPeriod = value;
        emit ParametersSet(quorumBps, approvalBps, votingPeriod);
    }

    function _validQuorum(uint256 v) private pure returns (bool) {
        return v >= 1 && v <= BPS;
    }

    function _validApproval(uint256 v) private pure returns (bool) {
        return v >= MIN_APPROVAL_BPS && v <= BPS;
    }

    function _validPeriod(uint256 v) private pure returns (bool) {
        return v >= MIN_VOTING_PERIOD && v <= MAX_VOTING_PERIOD;
    }

    function _memberKey(address account) private pure returns (bytes32) {
        // Parameter keys are the small numbers of their kinds; an address key sets bit 160 so none can collide.
        return bytes32(uint256(uint160(account)) | (1 << 160));
    }

    function _batch(uint256 id) private view returns (Batch storage) {
        if (id >= batches.length) revert UnknownBatch(id);
        return batches[id];
    }

    function _proposal(uint256 id) private view returns (Proposal storage) {
        if (id >= proposals.length) revert UnknownProposal(id);
        return proposals[id];
    }

    function _wasMember(address account, uint32 epoch) private view returns (bool) {
        Seat memory s = seats[account];
        if (s.joined != 0 && s.joined <= epoch) return s.position != 0 || epoch < s.left;
        // Before its latest seat: search the earlier ones (sorted, disjoint) for the last that began by `epoch`.
        Interval[] storage past = earlierSeats[account];
        uint256 lo = 0;
        uint256 hi = past.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (past[mid].joined <= epoch) lo = mid + 1;
            else hi = mid;
        }
        return lo != 0 && epoch < past[lo - 1].left;
    }

    function _addMember(address account) private {
        if (account == address(0)) revert BadParameter();
        Seat storage s = seats[account];
        if (s.position != 0) revert AlreadyMember();
        uint32 epoch = membershipEpoch + 1;
        membershipEpoch = epoch;
        if (s.joined != 0) earlierSeats[account].push(Interval(s.joined, s.left));
        memberList.push(account);
        s.position = _u32(memberList.length);
        s.joined = epoch;
        s.left = 0;
        emit MemberAdded(account, epoch);
    }

    function _removeMember(address account) private {
        Seat storage s = seats[account];
        uint32 epoch = membershipEpoch + 1;
        membershipEpoch = epoch;
        uint256 i = uint256(s.position) - 1;
        uint256 last = memberList.length - 1;
        if (i != last) {
            address moved = memberList[last];
            memberList[i] = moved;
            seats[moved].position = s.position;
        }
        memberList.pop();
        s.position = 0;
        s.left = epoch;
        if (bytes(endpointOf[account]).length != 0) delete endpointOf[account];
        emit MemberRemoved(account, epoch);
    }

    function _pageLength(uint256 total, uint256 offset, uint256 limit) private pure returns (uint256 n) {
        if (offset >= total) return 0;
        n = total - offset;
        if (limit < n) n = limit;
        if (n > MAX_PAGE) n = MAX_PAGE;
    }

    function _u64(uint256 v) private pure returns (uint64) {
        if (v > type(uint64).max) revert Overflow();
        return uint64(v);
    }

    function _u32(uint256 v) private pure returns (uint32) {
        if (v > type(uint32).max) revert Overflow();
        return uint32(v);
    }
}
