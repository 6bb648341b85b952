// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ExperienceRegistry: which experience batches a DSO network accepts.
/// @notice A node registers each batch once (Merkle root, manifest CID, record
/// count) from its own account; DAO members vote once each before a deadline;
/// a batch is accepted when at least `quorum` members voted and at least 2/3
/// of the votes approve. Members are added and removed by the owner or by the
/// members' own vote under the same rule.
contract ExperienceRegistry {
    enum Status { None, Pending, Accepted, Rejected }

    struct Batch {
        bytes32 root;
        string cid;
        uint32 count;
        address submitter;
        uint64 submittedAt;
        uint64 deadline;
        uint32 yes;
        uint32 no;
        Status status;
    }

    struct MemberProposal {
        address account;
        bool add;
        uint64 deadline;
        uint32 yes;
        uint32 no;
        Status status;
    }

    address public owner;
    uint32 public quorum;
    uint64 public votingPeriod;
    uint32 public memberCount;
    mapping(address => bool) public isMember;

    Batch[] private batches;
    mapping(bytes32 => uint256) private batchOfRoot; // root => id + 1
    mapping(uint256 => mapping(address => bool)) public hasVoted;
    uint256[] private accepted;

    MemberProposal[] private proposals;
    mapping(uint256 => mapping(address => bool)) public hasVotedOnMember;

    event BatchSubmitted(uint256 indexed id, bytes32 indexed root, address indexed submitter, string cid, uint32 count, uint64 deadline);
    event Voted(uint256 indexed id, address indexed member, bool approve);
    event BatchAccepted(uint256 indexed id, bytes32 indexed root);
    event BatchRejected(uint256 indexed id, bytes32 indexed root);
    event MemberAdded(address indexed account);
    event MemberRemoved(address indexed account);
    event MemberProposed(uint256 indexed id, address indexed account, bool add);

    error NotOwner();
    error NotMember();
    error AlreadyMember();
    error AlreadySubmitted(bytes32 root);
    error EmptyBatch();
    error UnknownBatch(uint256 id);
    error AlreadyVoted(uint256 id);
    error VotingClosed(uint256 id);
    error VotingOpen(uint256 id);
    error BadParameter();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyMember() {
        if (!isMember[msg.sender]) revert NotMember();
        _;
    }

    constructor(uint32 quorum_, uint64 votingPeriod_, address[] memory members) {
        if (quorum_ == 0 || votingPeriod_ == 0) revert BadParameter();
        owner = msg.sender;
        quorum = quorum_;
        votingPeriod = votingPeriod_;
        for (uint256 i = 0; i < members.length; i++) _addMember(members[i]);
    }

    // ---- batches ----

    function submitBatch(bytes32 root, string calldata cid, uint32 count) external returns (uint256 id) {
        if (count == 0 || bytes(cid).length == 0) revert EmptyBatch();
        if (batchOfRoot[root] != 0) revert AlreadySubmitted(root);
        id = batches.length;
        uint64 deadline = uint64(block.timestamp) + votingPeriod;
        batches.push(Batch(root, cid, count, msg.sender, uint64(block.timestamp), deadline, 0, 0, Status.Pending));
        batchOfRoot[root] = id + 1;
        emit BatchSubmitted(id, root, msg.sender, cid, count, deadline);
    }

    function vote(uint256 id, bool approve) external onlyMember {
        Batch storage b = _batch(id);
        if (b.status != Status.Pending || block.timestamp > b.deadline) revert VotingClosed(id);
        if (hasVoted[id][msg.sender]) revert AlreadyVoted(id);
        hasVoted[id][msg.sender] = true;
        if (approve) b.yes++;
        else b.no++;
        emit Voted(id, msg.sender, approve);
        // Decided early once the remaining members cannot change the outcome.
        if (_approved(b.yes, b.no) && _approved(b.yes, memberCount - b.yes)) _accept(id, b);
    }

    /// @notice Closes the vote after the deadline: accepted with a quorum and 2/3 approval, else rejected.
    function finalize(uint256 id) external {
        Batch storage b = _batch(id);
        if (b.status != Status.Pending) revert VotingClosed(id);
        if (block.timestamp <= b.deadline) revert VotingOpen(id);
        if (_approved(b.yes, b.no)) _accept(id, b);
        else {
            b.status = Status.Rejected;
            emit BatchRejected(id, b.root);
        }
    }

    function batchCount() external view returns (uint256) {
        return batches.length;
    }

    function getBatch(uint256 id) external view returns (Batch memory) {
        return _batch(id);
    }

    function batchIdOf(bytes32 root) external view returns (bool found, uint256 id) {
        uint256 v = batchOfRoot[root];
        return (v != 0, v == 0 ? 0 : v - 1);
    }

    function acceptedCount() external view returns (uint256) {
        return accepted.length;
    }

    /// @notice Accepted batches in order of acceptance, `limit` from `offset`.
    function acceptedBatches(uint256 offset, uint256 limit) external view returns (uint256[] memory ids, Batch[] memory page) {
        uint256 end = offset + limit;
        if (end > accepted.length) end = accepted.length;
        uint256 n = offset < end ? end - offset : 0;
        ids = new uint256[](n);
        page = new Batch[](n);
        for (uint256 i = 0; i < n; i++) {
            ids[i] = accepted[offset + i];
            page[i] = batches[ids[i]];
        }
    }

    // ---- members ----

    function addMember(address account) external onlyOwner {
        _addMember(account);
    }

    function removeMember(address account) external onlyOwner {
        _removeMember(account);
    }

    function proposeMember(address account, bool add) external onlyMember returns (uint256 id) {
        if (account == address(0) || isMember[account] == add) revert BadParameter();
        id = proposals.length;
        proposals.push(MemberProposal(account, add, uint64(block.timestamp) + votingPeriod, 0, 0, Status.Pending));
        emit MemberProposed(id, account, add);
    }

    function voteMember(uint256 id, bool approve) external onlyMember {
        if (id >= proposals.length) revert UnknownBatch(id);
        MemberProposal storage p = proposals[id];
        if (p.status != Status.Pending || block.timestamp > p.deadline) revert VotingClosed(id);
        if (hasVotedOnMember[id][msg.sender]) revert AlreadyVoted(id);
        hasVotedOnMember[id][msg.sender] = true;
        if (approve) p.yes++;
        else p.no++;
        if (_approved(p.yes, p.no) && _approved(p.yes, memberCount - p.yes)) {
            p.status = Status.Accepted;
            if (p.add && !isMember[p.account]) _addMember(p.account);
            else if (!p.add && isMember[p.account]) _removeMember(p.account);
        }
    }

    function getMemberProposal(uint256 id) external view returns (MemberProposal memory) {
        if (id >= proposals.length) revert UnknownBatch(id);
        return proposals[id];
    }

    // ---- internals ----

    function _approved(uint32 yes, uint32 no) private view returns (bool) {
        uint256 votes = uint256(yes) + no;
        return votes >= quorum && uint256(yes) * 3 >= votes * 2;
    }

    function _accept(uint256 id, Batch storage b) private {
        b.status = Status.Accepted;
        accepted.push(id);
        emit BatchAccepted(id, b.root);
    }

    function _batch(uint256 id) private view returns (Batch storage) {
        if (id >= batches.length) revert UnknownBatch(id);
        return batches[id];
    }

    function _addMember(address account) private {
        if (account == address(0)) revert BadParameter();
        if (isMember[account]) revert AlreadyMember();
        isMember[account] = true;
        memberCount++;
        emit MemberAdded(account);
    }

    function _removeMember(address account) private {
        if (!isMember[account]) revert NotMember();
        isMember[account] = false;
        memberCount--;
        emit MemberRemoved(account);
    }
}
